"""What the examples share: a progress bar when tqdm is installed, and PNG
plots (matplotlib without a display)."""
import sys


def progress(iterable, quiet=False):
    """``iterable`` with a tqdm bar on stderr (tqdm is optional: without it,
    the iterable itself)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, disable=quiet, file=sys.stderr)


def show(bar, **values):
    """Shows values beside the bar, where there is one."""
    if hasattr(bar, "set_postfix"):
        bar.set_postfix(**values)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def line_plot(path, series, xlabel, ylabel, title=None, marker=None):
    """Saves one figure of ``series`` ({label: (x, y)}; a legend where labels are given)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (x, y) in series.items():
        ax.plot(x, y, label=label or None, marker=marker, alpha=0.85)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if any(series):
        ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""Pictures of graphs and executables as Graphviz source (``to_dot``), and
SVG files through the ``graphviz`` package when it is installed."""
from . import _core


def _quote(text):
    """A DOT string literal; newlines become DOT's line breaks."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'


def _shape(t):
    return "(*)" if t.shape is None else "(" + ", ".join(str(d) for d in t.shape) + ("," if len(t.shape) == 1 else "") + ")"


def _op_lines(graph, ops):
    """Nodes for ``ops`` and an edge per input tensor, labelled with its
    dtype and shape."""
    lines, ids = [], {op.name for op in ops}
    for op in ops:
        shape = "box" if op.type not in ("placeholder", "constant", "variable") else "ellipse"
        label = _quote(op.type + "\n" + op.name)
        lines.append(f"  {_quote(op.name)} [label={label}, shape={shape}];")
    for op in ops:
        for t in op.inputs:
            src = t.op
            if src.name in ids:
                lines.append(f"  {_quote(src.name)} -> {_quote(op.name)} [label={_quote(str(t.dtype) + _shape(t))}];")
        for dep in op.control_dependencies:
            if dep.name in ids:
                lines.append(f"  {_quote(dep.name)} -> {_quote(op.name)} [style=dashed];")
    return lines


def graph_to_dot(graph):
    """Every operation of ``graph``, with tensors (dtype and shape) on the edges."""
    lines = ["digraph tensorstitch {", "  rankdir=TB; node [fontname=Helvetica]; edge [fontsize=9];"]
    lines += _op_lines(graph, graph.operations())
    return "\n".join(lines + ["}"]) + "\n"


def executable_to_dot(exe):
    """The operations an executable runs, each fused kernel drawn as a cluster
    (of the most recently compiled signature)."""
    steps = exe._exe.steps()
    if not steps:
        raise _core.CompileError("to_dot: the executable has not been compiled for a signature yet; run it once "
                                 "(feeds with -1 dimensions compile on the first run)")
    ops = {op._op.id: op for op in exe.graph.operations()}
    used = [ops[i] for _, members in steps for i in members]
    feeds = [t.op for t in exe.feeds]
    lines = ["digraph tensorstitch {", "  rankdir=TB; node [fontname=Helvetica]; edge [fontsize=9];"]
    lines += _op_lines(exe.graph, feeds + [op for op in used if op not in feeds])
    kernel = 0
    for kind, members in steps:
        if kind != "kernel":
            continue
        names = " ".join(_quote(ops[i].name) for i in members)
        lines.append(f"  subgraph cluster_{kernel} {{ label={_quote(f'kernel {kernel}')}; style=rounded; "
                     f"color=steelblue; {names}; }}")
        kernel += 1
    return "\n".join(lines + ["}"]) + "\n"


def render_svg(dot_source, path):
    """Writes ``dot_source`` as an SVG file at ``path`` (needs the ``graphviz``
    package and Graphviz's ``dot`` program)."""
    try:
        import graphviz
    except ImportError:
        raise _core.Error("to_svg needs the graphviz package: pip install graphviz (and Graphviz itself, "
                          "e.g. apt-get install graphviz)") from None
    try:
        svg = graphviz.Source(dot_source).pipe(format="svg")
    except graphviz.ExecutableNotFound:
        raise _core.Error("to_svg needs Graphviz's 'dot' program on the PATH (e.g. apt-get install graphviz)") from None
    with open(path, "wb") as f:
        f.write(svg)
    return path

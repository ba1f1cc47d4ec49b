"""The one timer the benchmark scripts share: the median of synchronized calls."""
import statistics
import time


def timed(fn, sync=lambda: None, repeat=30, warmup=5):
    """Median seconds of ``repeat`` calls of ``fn`` each followed by ``sync``
    (a device synchronize, or nothing where ``fn`` waits itself), after
    ``warmup`` calls that compile and fill caches."""
    for _ in range(warmup):
        fn()
    sync()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)

"""One softmax and one layer norm over (8192, 8192), from primitives, for
Nsight Compute: ``ncu --set full -k regex:ts_kernel python bench/ncu_rows.py``."""
import numpy as np

import tensorstitch as ts

g = ts.Graph()
x = g.placeholder((8192, 8192), ts.float32)
e = g.exp(x - g.reduce_max(x, -1, keepdims=True))
d = x - g.reduce_mean(x, -1, keepdims=True)
ln = d / g.square_root(g.reduce_mean(d * d, -1, keepdims=True) + 1e-5)
m = np.random.default_rng(0).normal(size=(8192, 8192)).astype(np.float32)
for target in (e / g.reduce_sum(e, -1, keepdims=True), ln):
    exe = g.compile({x: ts.TensorType((8192, 8192), ts.float32)}, [target], device="cuda")
    exe.run([m])

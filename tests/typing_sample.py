"""A user program that mypy checks against the package's types (test_typing.py)."""
from typing import Dict, List

import numpy as np

import tensorstitch as ts

g = ts.Graph()
x: ts.Tensor = g.placeholder((None, 3), ts.float32, name="x")
w = g.variable(np.ones((3, 2), np.float32), name="w")
y: ts.Tensor = g.relu(x @ w + 1.0)
mask: ts.Tensor = (y == 0) | (y > 1)
loss: ts.Tensor = g.reduce_mean(g.select(mask, y, g.square(y)))
grads: Dict[ts.Tensor, ts.Tensor] = g.gradients(loss, [w])
step: List[ts.Operation] = ts.optim.SGD(0.1).minimize(g, loss)
exe: ts.Executable = g.compile({x: ts.TensorType((-1, 3), ts.float32)}, [loss, grads[w]])
out: List[ts.NDArray] = exe.run({x: np.ones((4, 3), np.float32)})
value: float = float(np.asarray(out[0]))
print(value, exe.explain(), y.T.sum(0).astype(ts.float64).shape)

"""tensorstitch: a tensor graph compiler. Build a graph once, let the compiler
stitch adjacent operations into kernels, run it again and again."""
from . import _core
from ._dtypes import (DType, as_dtype, bfloat16, float16, float32, float64, int8, int32, int64, uint8)
from ._dtypes import bool_
from .executable import Executable, Future, Profile, TensorType
from .descriptors import Conv2dDescriptor, Pool2dDescriptor
from .graph import Graph
from .ndarray import NDArray, asarray
from .tensor import Operation, Tensor
from .serialization import GraphFile, load_graph, load_variables, save_graph, save_variables
from . import datasets, nn, onnx, optim
from . import _cuda_libs  # tells the core where the CUDA libraries are

Error = _core.Error
ShapeError = _core.ShapeError
DTypeError = _core.DTypeError
GraphError = _core.GraphError
FeedError = _core.FeedError
DeviceError = _core.DeviceError
CompileError = _core.CompileError
Device = _core.Device

globals()["bool"] = bool_  # ts.bool, like ts.float32; also ts.bool_

__version__ = "0.1.0"


def devices():
    """The devices this process can run on."""
    return _core.devices()


def default_device():
    """CUDA when usable, else the CPU; TENSORSTITCH_DEVICE overrides."""
    return _core.default_device()

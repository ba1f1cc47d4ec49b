// The whole public C++ API.
#pragma once
#include "tensorstitch/device.h"
#include "tensorstitch/dtype.h"
#include "tensorstitch/error.h"
#include "tensorstitch/executable.h"
#include "tensorstitch/future.h"
#include "tensorstitch/composites.h"
#include "tensorstitch/control_flow.h"
#include "tensorstitch/graph.h"
#include "tensorstitch/graph_file.h"
#include "tensorstitch/ndarray.h"
#include "tensorstitch/tensor.h"

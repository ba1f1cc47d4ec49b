// Builds the GeLU through the public C++ API, runs it, checks it against
// std::erf, and checks that bad input raises an exception instead of crashing.
#include <cmath>
#include <cstdio>

#include <tensorstitch/tensorstitch.h>

int main() {
  ts::Graph g;
  ts::TensorType xt;
  xt.dims = {-1, 3};
  ts::Tensor x = g.placeholder(xt, "x");

  auto scalar = [&](float v) {
    ts::NDArray a({}, ts::DType::Float32);
    *a.data_as<float>() = v;
    return g.constant(a);
  };
  ts::Tensor half = scalar(0.5f), one = scalar(1.0f);
  ts::Tensor r = g.op("square_root", {half})[0];
  ts::Tensor inner = g.op("erf", {g.op("multiply", {x, r})[0]})[0];
  ts::Tensor y = g.op("multiply", {g.op("multiply", {half, x})[0], g.op("add", {one, inner})[0]})[0];

  ts::NDArray in({4, 3}, ts::DType::Float32);
  for (int i = 0; i < 12; ++i) in.data_as<float>()[i] = -3.0f + 0.5f * float(i);
  std::vector<ts::NDArray> out = g.run({{x, in}}, {y}, {}, ts::Device{});
  double worst = 0;
  for (int i = 0; i < 12; ++i) {
    double v = in.data_as<float>()[i];
    double want = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    worst = std::fmax(worst, std::fabs(out[0].data_as<float>()[i] - want));
  }
  std::printf("gelu max error %.3g\n", worst);
  if (!(worst < 1e-5)) return 1;

  // The composites C++ users get: an SGD step, mean and variance, stack and x[1, ::-1].
  ts::Tensor lr = ts::scalar_constant(g, 0.5, ts::DType::Float32);
  ts::Tensor stepped = ts::sgd(g, lr, x, x);  // x - 0.5 x
  auto [mean, var] = ts::mean_variance(g, x, std::vector<int64_t>{1});
  ts::Tensor stacked = ts::stack(g, {mean, var}, 0);
  ts::IndexEntry row{ts::IndexEntry::Kind::Int, 1, std::nullopt, 1};
  ts::IndexEntry reversed{ts::IndexEntry::Kind::Slice, std::nullopt, std::nullopt, -1};
  ts::Tensor picked = ts::basic_index(g, x, {row, reversed});
  out = g.run({{x, in}}, {stepped, stacked, picked}, {}, ts::Device{});
  const float* xv = in.data_as<float>();
  const float m1 = (xv[3] + xv[4] + xv[5]) / 3;
  const bool ok = out[0].data_as<float>()[4] == 0.5f * xv[4] && out[1].shape() == ts::Dims{2, 4} &&
                  std::fabs(out[1].data_as<float>()[1] - m1) < 1e-6f && out[2].shape() == ts::Dims{3} &&
                  out[2].data_as<float>()[0] == xv[5];
  std::printf("composites %s\n", ok ? "ok" : "wrong");
  if (!ok) return 1;

  ts::TensorType zt;
  zt.dims = {2, 5};
  try {
    g.op("matmul", {x, g.placeholder(zt, "z")});  // (-1, 3) @ (2, 5): 3 != 2
    std::printf("matmul of mismatched shapes did not throw\n");
    return 1;
  } catch (const ts::ShapeError& e) {
    std::printf("ShapeError as expected: %s\n", e.what());
  }
  return 0;
}

// One model's CPU training step on plain LibTorch (torch::nn +
// torch::optim::AdamW, batch 64, random data of Fashion-MNIST's shape),
// built by bench/libtorch_versions/run.sh against two LibTorch builds so
// that their step times are compared in one run. Deliberately free of
// cairn: it compiles against any LibTorch from 1.13 on.
//   plain_step MODEL(mlp|cnn) STEPS THREADS   -> prints "ms/step <x>"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <torch/torch.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: plain_step mlp|cnn STEPS THREADS\n");
    return 2;
  }
  const bool cnn = std::strcmp(argv[1], "cnn") == 0;
  const int64_t steps = std::atoll(argv[2]);
  torch::set_num_threads(std::atoi(argv[3]));
  torch::manual_seed(1);
  torch::nn::Sequential net;
  if (cnn) {
    net = torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)), torch::nn::ReLU(),
                                torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)),
                                torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(),
                                torch::nn::Linear(64 * 7 * 7, 128), torch::nn::ReLU(), torch::nn::Linear(128, 10));
  } else {
    net = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 256), torch::nn::ReLU(),
                                torch::nn::Linear(256, 128), torch::nn::ReLU(), torch::nn::Linear(128, 10));
  }
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0));
  auto x = torch::rand({4096, 1, 28, 28});
  auto y = torch::randint(0, 10, {4096}, torch::kLong);
  double sink = 0;
  auto step = [&](int64_t s) {
    auto idx = torch::randint(0, 4096, {64}, torch::kLong);
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x.index_select(0, idx)), y.index_select(0, idx));
    loss.backward();
    opt.step();
    sink += loss.item<double>() * static_cast<double>(s % 2);
  };
  for (int64_t s = 0; s < 20; ++s) step(s);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < steps; ++s) step(s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("ms/step %.4f%s\n", 1000.0 * secs / static_cast<double>(steps), sink < -1 ? " (impossible)" : "");
  return 0;
}

// The training and serving part of scripts/gpu-check: the real engine
// (train/trainer.h) on a loopback data plane, on the first CUDA device.
//   1. a single-GPU Fashion-MNIST job (the small CNN): test accuracy >= 0.88
//   2. the char-gpt example's step time on the GPU against the CPU (all cores)
//   3. diloco with 2 ranks (threads over a TCPStore and Gloo) on one GPU
//   4. determinism: the same job twice on the GPU, fp32 and bf16: same bits
//   5. serving on CUDA: the job's exported model, loaded on the GPU, agrees
//      with the same model on the CPU
//   6. with 2+ GPUs, ddp with one rank per GPU over NCCL (resources.gpus)
// Prints a Markdown table for bench/RESULTS.md. Where no CUDA device is
// visible it says so and exits 0 without running anything (the build step
// of the GPU check still ran). Exit 1 if a check fails.
//   gpu_train_check [--quick]     (--quick: shorter runs)
// Data: /usr/share/datasets/fashion-mnist (or CAIRN_FASHION_DIR), and
// CAIRN_SHARED_DATA/tinyshakespeare/input.txt.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>
#include <zlib.h>

#include "data/loopback_data_plane.h"
#include "kernels/device_info.h"
#include "serve/inference_model.h"
#include "train/train_test_support.h"
#include "train/trainer.h"

namespace {

using namespace cairn;  // NOLINT: a benchmark's main
using SteadyClock = std::chrono::steady_clock;

struct Row {
  std::string check, result, target;
  bool ok = true;
};
std::vector<Row> rows;

void Add(const std::string& check, const std::string& result, const std::string& target, bool ok) {
  rows.push_back({check, result, target, ok});
  std::fprintf(stderr, "gpu_train_check: %s: %s (%s) %s\n", check.c_str(), result.c_str(), target.c_str(), ok ? "ok" : "FAIL");
}

std::string Fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[200];
  std::snprintf(buf, sizeof(buf), f, a, b, c);
  return buf;
}

train::TrainTask Cnn(const data::Manifest& fashion, int64_t steps) {
  train::TrainTask t;
  t.job_id = "gpu-check";
  t.job_name = "fashion-cnn";
  t.dataset = fashion;
  t.config.model = "cnn";
  t.config.steps = steps;
  t.config.round_steps = steps;
  t.config.batch_size = 64;
  t.config.device = jobspec::Device::kCuda;
  return t;
}

train::TrainTask Gpt(const data::Manifest& text, int64_t steps, bool cuda) {
  train::TrainTask t;
  t.job_id = "gpu-check";
  t.job_name = "char-gpt";
  t.dataset = text;
  t.config.model = "char-gpt";  // the Shakespeare example's shape
  t.config.layers = 4;
  t.config.heads = 4;
  t.config.width = 128;
  t.config.context = 64;
  t.config.batch_size = 32;
  t.config.lr = 2e-3;
  t.config.steps = steps;
  t.config.round_steps = steps;
  t.config.device = cuda ? jobspec::Device::kCuda : jobspec::Device::kCpu;
  return t;
}

// `samples_per_sec` (optional): the last round's, over its steps alone
// (not the data loading, evaluation or export around them).
StatusOr<train::TrainResult> Run(data::LoopbackDataPlane& plane, const train::TrainTask& t, int threads = 0,
                                 double* samples_per_sec = nullptr) {
  data::DataClient client("127.0.0.1", plane.port(), "");
  train::TrainHooks h;
  h.threads = threads;
  h.on_round = [samples_per_sec](const train::RoundReport& r) {
    if (samples_per_sec) *samples_per_sec = r.samples_per_sec;
    return OkStatus();
  };
  return train::RunTraining(t, client, h);
}

// Test images [N, 1, 28, 28] of Fashion-MNIST as served models take them.
serve::FloatTensor Images(const std::string& dir, int64_t n) {
  serve::FloatTensor out;
  // Debian's package ships the IDX files gzipped; gzread reads either form.
  gzFile f = gzopen((dir + "/t10k-images-idx3-ubyte.gz").c_str(), "rb");
  if (!f) f = gzopen((dir + "/t10k-images-idx3-ubyte").c_str(), "rb");
  if (!f) return out;
  std::vector<unsigned char> px(16 + static_cast<size_t>(n) * 784);
  const bool read = gzread(f, px.data(), static_cast<unsigned>(px.size())) == static_cast<int>(px.size());
  gzclose(f);
  if (!read) return out;
  px.erase(px.begin(), px.begin() + 16);  // the IDX header
  out.shape = {n, 1, 28, 28};
  for (unsigned char p : px) out.data.push_back(static_cast<float>(p) / 255.0f);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  auto gpus = kernels::ListCudaDevices();
  if (!kernels::BuiltWithCuda() || !torch::cuda::is_available() || !gpus.ok() || gpus->empty()) {
    std::printf("gpu_train_check: NO CUDA DEVICE IS VISIBLE (%s): the GPU training, determinism and serving checks did "
                "not run; nothing was measured.\n",
                !kernels::BuiltWithCuda() ? "this build has no CUDA" : "torch::cuda::is_available() is false");
    return 0;
  }
  const std::string gpu = (*gpus)[0].name;
  const char* fashion_dir = std::getenv("CAIRN_FASHION_DIR");
  const std::string fashion_path = fashion_dir ? fashion_dir : "/usr/share/datasets/fashion-mnist";
  const char* shared = std::getenv("CAIRN_SHARED_DATA");
  const std::string text_path = std::string(shared ? shared : "../shared/data") + "/tinyshakespeare/input.txt";

  data::LoopbackDataPlane plane;
  auto fashion = plane.Add(fashion_path, data::Format::kIdx, "fashion-mnist");
  if (!fashion.ok()) {
    std::printf("gpu_train_check: Fashion-MNIST not found at %s: %s\n", fashion_path.c_str(), fashion.status().ToString().c_str());
    return 1;
  }

  // 1. Fashion-MNIST on one GPU (3 epochs of the CNN; 1 with --quick).
  std::string torchscript;
  {
    const int64_t steps = quick ? 940 : 2820;
    const auto t0 = SteadyClock::now();
    auto r = Run(plane, Cnn(*fashion, steps));
    const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    if (!r.ok()) {
      Add("fashion-mnist cnn, 1 GPU", r.status().ToString(), ">= 0.88", false);
    } else {
      Add("fashion-mnist cnn, 1 GPU", Fmt("test accuracy %.4f in %.1f s (%.0f steps)", r->final_eval, s, double(steps)), ">= 0.88",
          r->final_eval >= 0.88);
      torchscript = r->torchscript;
    }
  }

  // 2. char-gpt step time, GPU against CPU (all cores).
  auto text = plane.Add(text_path, data::Format::kText, "shakespeare");
  if (!text.ok()) {
    Add("char-gpt step time", "tinyshakespeare not found: " + text.status().ToString(), "GPU faster", false);
  } else {
    const int64_t cpu_steps = quick ? 20 : 60, gpu_steps = quick ? 100 : 400;
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    // ms per step from the round's own timing (its steps only), after a
    // warm-up run (data, kernels, cuBLAS handles).
    auto time_it = [&](bool cuda, int64_t steps) -> StatusOr<double> {
      ASSIGN_OR_RETURN(train::TrainResult warm, Run(plane, Gpt(*text, 5, cuda), cores));
      (void)warm;
      double sps = 0;
      train::TrainTask t = Gpt(*text, steps, cuda);
      ASSIGN_OR_RETURN(train::TrainResult r, Run(plane, t, cores, &sps));
      (void)r;
      if (sps <= 0) return InternalError("no round was reported");
      return 1000.0 * static_cast<double>(t.config.batch_size) / sps;
    };
    auto cpu = time_it(false, cpu_steps);
    auto cuda = time_it(true, gpu_steps);
    if (!cpu.ok() || !cuda.ok()) {
      Add("char-gpt step time", (!cpu.ok() ? cpu.status() : cuda.status()).ToString(), "GPU faster", false);
    } else {
      Add("char-gpt step time (4x128, ctx 64, batch 32)",
          Fmt("GPU %.2f ms, CPU (%.0f threads) %.2f ms", *cuda, cores, *cpu) + Fmt(": GPU %.1fx faster", *cpu / *cuda),
          "GPU faster", *cuda < *cpu);
    }
  }

  // 3. diloco with 2 ranks on one GPU.
  {
    train::TrainTask t = Cnn(*fashion, quick ? 400 : 800);
    t.config.strategy = jobspec::Strategy::kDiloco;
    t.config.inner_steps = 100;
    t.config.compress_int8 = true;
    auto r = train::testing::RunRanks(plane, t, 2, [](int, train::TrainHooks&) {});
    bool ok = r[0].ok() && r[1].ok() && r[0]->fingerprint == r[1]->fingerprint;
    Add("diloco, 2 ranks on one GPU (int8)",
        ok ? Fmt("test accuracy %.4f, %.0f KiB sent, ranks identical", r[0]->final_eval, r[0]->bytes_sent / 1024.0)
           : (!r[0].ok() ? r[0].status().ToString() : !r[1].ok() ? r[1].status().ToString() : "ranks differ"),
        "both finish, same bits", ok);
  }

  // 4. Determinism on the GPU, fp32 and bf16.
  for (bool bf16 : {false, true}) {
    train::TrainTask t = Cnn(*fashion, 300);
    t.config.bf16 = bf16;
    auto a = Run(plane, t), b = Run(plane, t);
    const bool ok = a.ok() && b.ok() && a->fingerprint == b->fingerprint;
    Add(std::string("determinism, cnn 300 steps, ") + (bf16 ? "bf16" : "fp32"),
        ok ? "two runs, identical fingerprints" : (!a.ok() ? a.status().ToString() : !b.ok() ? b.status().ToString() : "fingerprints differ"),
        "identical", ok);
  }

  // 5. Serving on CUDA: the exported model on the GPU agrees with the CPU.
  if (!torchscript.empty()) {
    auto on_gpu = serve::InferenceModel::Load(torchscript, serve::ServeDevice::kCuda);
    auto on_cpu = serve::InferenceModel::Load(torchscript, serve::ServeDevice::kCpu);
    const serve::FloatTensor x = Images(fashion_path, 1000);
    bool ok = on_gpu.ok() && on_cpu.ok() && !x.data.empty();
    std::string result = !on_gpu.ok() ? on_gpu.status().ToString() : !on_cpu.ok() ? on_cpu.status().ToString() : "no test images";
    if (ok) {
      auto g = (*on_gpu)->Forward(x);
      auto c = (*on_cpu)->Forward(x);
      ok = g.ok() && c.ok();
      if (ok) {
        int64_t agree = 0;
        const int64_t n = x.shape[0], k = static_cast<int64_t>(g->data.size()) / n;
        for (int64_t i = 0; i < n; ++i) {
          auto arg = [&](const std::vector<float>& v) {
            return std::max_element(v.begin() + i * k, v.begin() + (i + 1) * k) - (v.begin() + i * k);
          };
          agree += arg(g->data) == arg(c->data);
        }
        result = "on " + (*on_gpu)->info().device + Fmt(": %.0f of %.0f predictions equal the CPU's", double(agree), double(n));
        ok = agree >= n - 1;
      } else {
        result = (!g.ok() ? g.status() : c.status()).ToString();
      }
    }
    Add("serving on CUDA (exported cnn, 1000 test images)", result, ">= 999 agree", ok);
  }

  // 6. ddp with one rank per GPU over NCCL, where there are two.
  if (gpus->size() >= 2) {
    train::TrainTask t = Cnn(*fashion, 400);
    t.config.strategy = jobspec::Strategy::kDdp;
    t.local_ranks = 2;
    auto r = Run(plane, t);
    Add("ddp, 2 GPUs in one worker (NCCL)", r.ok() ? Fmt("test accuracy %.4f, %.0f collectives", r->final_eval, double(r->collectives)) : r.status().ToString(),
        "finishes", r.ok());
  } else {
    Add("ddp, 2 GPUs in one worker (NCCL)", "not run: 1 GPU visible", "needs 2 GPUs", true);
  }

  std::printf("\n| check (%s, LibTorch %s) | result | target | |\n|---|---|---|---|\n", gpu.c_str(), TORCH_VERSION);
  bool all = true;
  for (const Row& r : rows) {
    std::printf("| %s | %s | %s | %s |\n", r.check.c_str(), r.result.c_str(), r.target.c_str(), r.ok ? "ok" : "**FAIL**");
    all = all && r.ok;
  }
  return all ? 0 : 1;
}

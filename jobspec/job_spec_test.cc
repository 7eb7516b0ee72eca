#include "jobspec/job_spec.h"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "runtime/base/test_data.h"

namespace cairn::jobspec {
namespace {

const char kTrain[] = R"(# a two-worker data-parallel job
name: fashion-mnist-mlp
kind: train
model: mlp
datasets: [fashion-mnist]
hyperparameters: {lr: 0.001, batch_size: 64}
resources:
  workers: 2
  device: cpu
  min_memory_gb: 2
  regions: [eu-west, eu-north]
  max_price_per_hour: 1.5
strategy: {diloco: {inner_steps: 50}}
budget: 12.5
checkpoint_every: 5
output: {model: fmnist-mlp, license: MIT}
)";

TEST(JobSpec, ParsesAFullTrainSpec) {
  auto s = ParseJobSpec(kTrain, "job.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "fashion-mnist-mlp");
  EXPECT_EQ(s->kind, JobKind::kTrain);
  EXPECT_EQ(s->model, "mlp");
  EXPECT_EQ(s->datasets, std::vector<std::string>{"fashion-mnist"});
  EXPECT_EQ(s->hyperparameters.at("lr"), "0.001");
  EXPECT_EQ(s->workers, 2u);
  EXPECT_EQ(s->min_memory_bytes, 2ull << 30);
  EXPECT_EQ(s->regions.size(), 2u);
  EXPECT_EQ(s->max_price_per_hour_micros, 1'500'000u);
  EXPECT_EQ(s->strategy, Strategy::kDiloco);
  EXPECT_EQ(s->strategy_options.at("inner_steps"), "50");
  EXPECT_EQ(s->budget_micros, 12'500'000u);
  EXPECT_EQ(s->checkpoint_every, 5u);
  EXPECT_EQ(s->output_model, "fmnist-mlp");
}

TEST(JobSpec, BenchmarkDefaults) {
  auto s = ParseJobSpec("name: bench\nkind: benchmark\nresources: {workers: 3}\nbenchmark: {seconds: 2}\n", "b.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->workers, 3u);
  EXPECT_EQ(s->benchmark_seconds, 2u);
  EXPECT_EQ(s->max_retries, 3u);
}

TEST(JobSpec, ErrorsNameTheFileLineAndField) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"", "job.yaml: the spec is empty"},
      {"name: [unclosed\n", "not valid YAML"},
      {"- a\n- b\n", "spec: must be a mapping"},
      {"kind: train\n", "name: is required"},
      {"name: Bad_Name\n", "job.yaml:1: name: must be lowercase"},
      {"name: x\nkind: cook\n", "job.yaml:2: kind: must be train, serve or benchmark, got 'cook'"},
      {"name: x\nkind: train\ndatasets: [d]\n", "model: is required for train jobs"},
      {"name: x\nmodel: mlp\n", "datasets: a train job needs at least one dataset"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources:\n  workers: two\n",
       "job.yaml:5: resources.workers: must be an integer from 1 to 1024, got 'two'"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {workers: 0}\n", "resources.workers: must be an integer from 1"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {device: tpu}\n", "resources.device: must be cpu or cuda"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {gpus: 2}\n", "resources.gpus: needs device: cuda"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {device: cuda, gpus: 17}\n", "resources.gpus: must be an integer from 1 to 16"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {device: cuda, gpus: 2}\n",
       "strategy: resources.gpus: 2 trains one rank per GPU with ddp; set strategy: ddp"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {device: cuda, workers: 2}\nstrategy: ddp\n",
       "strategy: ddp on cuda runs inside one worker (NCCL); across 2 workers use strategy diloco"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {wrokers: 2}\n",
       "job.yaml:4: resources.wrokers: unknown field"},
      {"name: x\nmodle: mlp\n", "job.yaml:2: modle: unknown field"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nresources: {workers: 2}\nstrategy: single\n",
       "strategy: single cannot use 2 workers"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nstrategy: gossip\n", "strategy: must be single, ddp or diloco"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nbudget: -3\n", "budget: must be a non-negative number of credits"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nbenchmark: {seconds: 3}\n", "benchmark: only applies to kind: benchmark"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput: {shares: {aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 5000, "
       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: 4000}}\n",
       "output.shares: must sum to 10000 basis points, got 9000"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput: {shares: {alice: 10000}}\n",
       "output.shares: account 'alice' is not 64 hex digits"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput: {author: bob}\n", "job.yaml:4: output.author: account 'bob' is not 64 hex digits"},
      {"name: x\nmodel: mlp\ndatasets: [d, [nested]]\n", "datasets[1]: must be a single value"},
  };
  for (const auto& c : cases) {
    auto s = ParseJobSpec(c.yaml, "job.yaml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.want), std::string::npos)
        << "want '" << c.want << "' in '" << s.status().message() << "'";
  }
}

TEST(JobSpec, EveryExampleParses) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(SourceDir() + "/examples")) {
    if (f.path().extension() != ".yaml") continue;
    auto s = LoadJobSpec(f.path().string());
    EXPECT_TRUE(s.ok()) << s.status();
    ++n;
  }
  EXPECT_GE(n, 2);
}

TEST(JobSpec, MissingFileIsNotFound) {
  EXPECT_EQ(LoadJobSpec("/nonexistent/job.yaml").status().code(), StatusCode::kNotFound);
}

// Malformed input: mutated specs and random bytes give errors or specs,
// never a crash or an exception.
TEST(JobSpec, MutatedSpecsNeverCrash) {
  std::mt19937_64 rng(17);
  std::string base = kTrain;
  for (int i = 0; i < 5000; ++i) {
    std::string s = base;
    for (int k = 1 + static_cast<int>(rng() % 6); k > 0; --k) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = static_cast<char>(rng()); break;
        case 1: s.erase(pos, 1 + rng() % 8); break;
        default: s.insert(pos, std::string(1 + rng() % 3, "{}[]:-'\"&*!|>%@`\n "[rng() % 19])); break;
      }
      if (s.empty()) s = "x";
    }
    (void)ParseJobSpec(s, "fuzz.yaml");
  }
}

}  // namespace
}  // namespace cairn::jobspec

namespace cairn::jobspec {
namespace {

TEST(JobSpecServe, PricesParseAndAreOnlyForServeJobs) {
  auto s = ParseJobSpec("name: s\nkind: serve\nmodel: m\nprice: {per_request: 0.001, per_1k_tokens: 0.05, worker_share: 0.25}\n",
                        "s.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->price_per_request_micros, 1000u);
  EXPECT_EQ(s->price_per_1k_tokens_micros, 50000u);
  EXPECT_EQ(s->worker_share_bps, 2500u);
  EXPECT_EQ(ParseJobSpec("name: s\nkind: serve\nmodel: m\n", "s.yaml")->worker_share_bps, 5000u) << "default: half";
  auto train = ParseJobSpec("name: t\nmodel: mlp\ndatasets: [d]\nprice: {per_request: 1}\n", "t.yaml");
  EXPECT_NE(train.status().message().find("price: only applies to kind: serve"), std::string::npos) << train.status();
  EXPECT_NE(ParseJobSpec("name: s\nkind: serve\nmodel: m\nprice: {worker_share: 2}\n", "s.yaml").status().message().find("between 0 and 1"),
            std::string::npos);
  EXPECT_NE(ParseJobSpec("name: s\nkind: serve\nmodel: m\nprice: {per_token: 2}\n", "s.yaml").status().message().find("per_token"),
            std::string::npos);
}

TEST(JobSpecLicences, AllowUnknownLicensesAndFinetuneFeeParse) {
  auto s = ParseJobSpec("name: t\nmodel: mlp\ndatasets: [d]\nallow_unknown_licenses: true\n"
                        "output: {model: m, license: MIT, terms: {finetune_fee: 0.5}}\n",
                        "t.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->allow_unknown_licenses);
  EXPECT_EQ(s->output_finetune_fee_micros, 500'000u);
  EXPECT_EQ(s->output_license, "MIT");

  auto d = ParseJobSpec("name: t\nmodel: mlp\ndatasets: [d]\noutput: {model: m}\n", "t.yaml");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->allow_unknown_licenses) << "default: refuse unknown licences";
  EXPECT_EQ(d->output_finetune_fee_micros, 0u) << "default: no fee";
  EXPECT_EQ(d->output_chat_template, "") << "default: the model's default template (roles)";
  auto chat = ParseJobSpec("name: t\nmodel: char-gpt\ndatasets: [d]\noutput: {model: m, chat_template: plain}\n", "t.yaml");
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->output_chat_template, "plain");
  auto f = ParseJobSpec("name: t\nmodel: mlp\ndatasets: [d]\nallow_unknown_licenses: false\n", "t.yaml");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->allow_unknown_licenses);
}

TEST(JobSpecLicences, BadValuesNameTheField) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"name: x\nmodel: mlp\ndatasets: [d]\nallow_unknown_licenses: maybe\n",
       "job.yaml:4: allow_unknown_licenses: must be true or false, got 'maybe'"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nallow_unknown_licenses: [true]\n",
       "job.yaml:4: allow_unknown_licenses: must be a single value"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput:\n  terms: {finetune_fee: -1}\n",
       "job.yaml:5: output.terms.finetune_fee: must be a non-negative number of credits, got '-1'"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput:\n  terms: {finetune_fee: lots}\n",
       "output.terms.finetune_fee: must be a non-negative number of credits, got 'lots'"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput:\n  terms: {fee: 1}\n",
       "job.yaml:5: output.terms.fee: unknown field (expected one of: finetune_fee)"},
      {"name: x\nmodel: mlp\ndatasets: [d]\noutput: {terms: 3}\n", "job.yaml:4: output.terms: must be a mapping"},
      {"name: x\nmodel: char-gpt\ndatasets: [d]\noutput: {chat_template: chatml}\n",
       "job.yaml:4: output.chat_template: must be roles or plain"},
      {"name: x\nmodel: mlp\ndatasets: [d]\nallow_unknown_licences: true\n", "job.yaml:4: allow_unknown_licences: unknown field"},
  };
  for (const auto& c : cases) {
    auto s = ParseJobSpec(c.yaml, "job.yaml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.want), std::string::npos)
        << "want '" << c.want << "' in '" << s.status().message() << "'";
  }
}

// Every example in examples/ is a valid spec.
TEST(JobSpecExamples, AllParse) {
  const std::string dir = SourceDir() + "/examples";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto s = ParseJobSpec(text, e.path().filename().string());
    EXPECT_TRUE(s.ok()) << e.path() << ": " << s.status();
    ++n;
  }
  EXPECT_GE(n, 8);
}

}  // namespace
}  // namespace cairn::jobspec

// Speed of a 1,000-plan sweep with trace replay (not a test: it prints a table).
// workloads/examples/sweep_1000_plans_70b.json: Llama-3.1-70B on 1 to 64 GPUs (5 GPUs x TP 1/2/4/8 x
// DP 1/2/4/6/8 x max_num_seqs 32..512 x the Azure conversation trace at 1x and 2x, its first 2,000
// requests). Times, as whole processes, the sweep; the same sweep replaying one request per plan (what
// each plan costs besides its simulation: its forked child, config and catalogs, KV cache set-up,
// writing and committing its files, the parent reading them back); and `servesim --version`, the start-up
// of a process exec'd afresh (the dynamic loader relocating Debian SimGrid's ns-3 libraries), which plan
// children, forked from the initialised sweep, do not pay.
// Usage: sweep_speed_bench [--jobs N] [--runs R]   (default 2 jobs, 1 run; reads ../shared/data).
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct Timing {
  double wall_s = 0.0;
  double cpu_s = 0.0;  // user + system of the process and every process it waited for
};

// Runs `args` (stdout and stderr to /dev/null) and times it from outside.
Timing time_process(const std::vector<std::string>& args) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  Timing t;
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
            1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "sweep_speed_bench: %s exited with status %d\n", args[0].c_str(), status);
    std::exit(1);
  }
  return t;
}

Timing median(std::vector<Timing> runs) {
  auto mid = [&](auto key) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(key(r));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {mid([](const Timing& t) { return t.wall_s; }), mid([](const Timing& t) { return t.cpu_s; })};
}

// Plans of sweep.csv by status.
std::size_t count_status(const fs::path& csv, const std::string& status) {
  std::ifstream in(csv);
  std::string line;
  std::size_t n = 0;
  std::getline(in, line);  // header
  while (std::getline(in, line)) n += line.find("," + status + ",") != std::string::npos;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 2;
  int runs = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--jobs") jobs = std::atoi(argv[i + 1]);
    else if (flag == "--runs") runs = std::atoi(argv[i + 1]);
  }
  const fs::path source = SERVESIM_SOURCE_DIR;
  const fs::path trace = fs::path(SERVESIM_SHARED_DATA_DIR) / "traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv";
  if (!fs::exists(trace)) {
    std::printf("sweep_speed_bench: skipped: %s is absent (the shared Azure LLM 2023 trace)\n", trace.c_str());
    return 0;
  }
  const fs::path example = source / "workloads/examples/sweep_1000_plans_70b.json";
  const fs::path dir = fs::temp_directory_path() / ("sweep_speed_bench." + std::to_string(::getpid()));
  fs::create_directories(dir);
  // The same sweep, replaying one request per plan (trace path made absolute: the file moves).
  nlohmann::ordered_json tiny = nlohmann::ordered_json::parse(std::ifstream(example));
  tiny["base"]["workload"]["trace"]["path"] = trace.string();
  tiny["base"]["workload"]["trace"]["max_requests"] = 1;
  std::ofstream(dir / "tiny.json") << tiny.dump(2) << "\n";

  const std::string servesim = SERVESIM_BINARY;
  const std::string jobs_text = std::to_string(jobs);
  std::vector<Timing> full, one;
  for (int r = 0; r < runs; ++r) {
    fs::remove_all(dir / "full");
    fs::remove_all(dir / "one");
    full.push_back(time_process({servesim, "sweep", example.string(), "--jobs", jobs_text, "--out", (dir / "full").string()}));
    one.push_back(time_process({servesim, "sweep", (dir / "tiny.json").string(), "--jobs", jobs_text, "--out",
                                (dir / "one").string()}));
  }
  std::vector<Timing> version;
  for (int r = 0; r < 20; ++r) version.push_back(time_process({servesim, "--version"}));
  const std::size_t plans = count_status(dir / "full" / "sweep.csv", "ok") +
                            count_status(dir / "full" / "sweep.csv", "infeasible") +
                            count_status(dir / "full" / "sweep.csv", "error");
  const std::size_t simulated = count_status(dir / "full" / "sweep.csv", "ok");
  const Timing f = median(full), o = median(one), v = median(version);

  std::printf("sweep_speed_bench: %s, --jobs %d, median of %d run(s); %u CPU cores online\n\n",
              example.filename().c_str(), jobs, runs, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
  std::printf("| sweep | plans | simulated (others infeasible) | wall | CPU (user + sys) | wall per plan | CPU per plan |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  auto row = [&](const char* name, const Timing& t) {
    std::printf("| %s | %zu | %zu | %.1f s | %.1f s | %.1f ms | %.1f ms |\n", name, plans, simulated, t.wall_s, t.cpu_s,
                1e3 * t.wall_s / static_cast<double>(plans), 1e3 * t.cpu_s / static_cast<double>(plans));
  };
  row("2,000 requests per plan", f);
  row("1 request per plan (per-plan overhead)", o);
  std::printf("\n| process start-up | wall | CPU |\n|---|---|---|\n");
  std::printf("| `servesim --version`, exec'd (median of 20) | %.1f ms | %.1f ms |\n", 1e3 * v.wall_s, 1e3 * v.cpu_s);
  std::printf("\nper-plan overhead (1-request sweep, CPU per plan): %.1f ms of the %.1f ms a plan costs (%.0f %%)\n",
              1e3 * o.cpu_s / static_cast<double>(plans), 1e3 * f.cpu_s / static_cast<double>(plans),
              100.0 * o.cpu_s / f.cpu_s);
  fs::remove_all(dir);
  return 0;
}

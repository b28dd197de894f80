#include "sim/sweep/sweep_runner.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <memory>
#include <stdexcept>
#include <string>

#include "sim/config_error.h"
#include "sim/config_node.h"
#include "sim/interrupt.h"
#include "sim/serving/run_driver.h"
#include "sim/sweep/pareto.h"

namespace servesim {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

double number_at(const nlohmann::json& summary, const char* pointer) {
  const nlohmann::json::json_pointer at(pointer);
  if (!summary.contains(at) || !summary.at(at).is_number()) return kMissing;
  return summary.at(at).get<double>();
}

std::string run_dir(const SweepRunOptions& options, std::size_t index) {
  return (std::filesystem::path(options.out_dir) / "runs" / std::to_string(index)).string();
}

void write_all(int fd, const std::string& text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

// The child: one plan through drive_run; reports {status, reason, gpus} on `fd` and exits.
[[noreturn]] void run_child(const SweepSpec& spec, const SweepRunOptions& options, std::size_t index, int fd) {
  nlohmann::json report;
  try {
    auto config = std::make_shared<const nlohmann::json>(nlohmann::json::parse(spec.config(index).dump()));
    RunOptions run_options;
    run_options.out_dir = run_dir(options, index);
    run_options.progress_label.clear();
    const RunOutcome outcome = drive_run(config, spec.base_name, run_options);
    report = {{"status", "ok"}, {"gpus", outcome.gpus}};
  } catch (const ConfigError& error) {
    report = {{"status", "infeasible"}, {"reason", one_line(error.what())}};
  } catch (const std::exception& error) {
    report = {{"status", "error"}, {"reason", "internal error: " + one_line(error.what())}};
  }
  write_all(fd, report.dump());
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(0);  // no parent destructors or atexit handlers in the child
}

SweepRow finish_row(const SweepRunOptions& options, std::size_t index, int wait_status, const std::string& text) {
  SweepRow row;
  row.index = index;
  row.metrics.assign(sweep_metric_names().size(), kMissing);
  nlohmann::json report = nlohmann::json::parse(text, nullptr, false);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0 || !report.is_object()) {
    row.status = "error";
    row.reason = WIFSIGNALED(wait_status) ? "run crashed (signal " + std::to_string(WTERMSIG(wait_status)) + ")"
                                          : "run ended without a report";
    return row;
  }
  row.status = report.at("status").get<std::string>();
  if (row.status != "ok") {
    row.reason = report.at("reason").get<std::string>();
    return row;
  }
  row.gpus = report.at("gpus").get<int64_t>();
  row.metrics = sweep_metrics(*load_json_file(run_dir(options, index) + "/summary.json"), row.gpus);
  return row;
}


std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string number_text(double value) {
  if (std::isnan(value)) return "";
  return nlohmann::json(value).dump();  // shortest text that reads back to the same double
}

void append_cell(std::string& line, const std::string& cell) {
  line += ',';
  line += cell;
}

std::string csv_header(const SweepSpec& spec) {
  std::string line = "index";
  for (const auto& axis : spec.axes) append_cell(line, csv_cell(axis.pointer));
  line += ",status,reason,gpus";
  for (const auto& name : sweep_metric_names()) append_cell(line, name);
  return line + ",violated\n";
}

std::string csv_line(const SweepSpec& spec, const SweepRow& row) {
  std::string line = std::to_string(row.index);
  const auto at = spec.coordinates(row.index);
  for (std::size_t k = 0; k < spec.axes.size(); ++k) {
    append_cell(line, csv_cell(axis_value_text(spec.axes[k].values[at[k]])));
  }
  append_cell(line, row.status);
  append_cell(line, csv_cell(row.reason));
  append_cell(line, row.gpus > 0 ? std::to_string(row.gpus) : std::string());
  for (double value : row.metrics) append_cell(line, number_text(value));
  std::string violated;
  for (const auto& name : row.violated) violated += (violated.empty() ? "" : " ") + name;
  append_cell(line, violated);
  return line + "\n";
}

}  // namespace

std::string axis_value_text(const nlohmann::ordered_json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::vector<double> sweep_metrics(const nlohmann::json& summary, int64_t gpus) {
  const double goodput = number_at(summary, "/slo/goodput_requests_per_s");
  std::vector<double> metrics = {number_at(summary, "/throughput/requests_per_s"),
                                 number_at(summary, "/throughput/output_tokens_per_s_per_gpu"),
                                 goodput / static_cast<double>(gpus),
                                 number_at(summary, "/ttft_s/p50"),
                                 number_at(summary, "/ttft_s/p99"),
                                 number_at(summary, "/tpot_s/p50"),
                                 number_at(summary, "/tpot_s/p99"),
                                 number_at(summary, "/energy/j_per_output_token"),
                                 number_at(summary, "/slo/attainment")};
  metrics.resize(sweep_metric_names().size(), kMissing);  // cost: evaluate_rows
  return metrics;
}

double row_value(const SweepRow& row, const std::string& metric) {
  if (metric == "gpus") return row.gpus > 0 ? static_cast<double>(row.gpus) : kMissing;
  const auto& names = sweep_metric_names();
  const auto at = static_cast<std::size_t>(std::find(names.begin(), names.end(), metric) - names.begin());
  return at < row.metrics.size() ? row.metrics[at] : kMissing;
}

bool sweep_uses_cost(const SweepSpec& spec) {
  auto is_cost = [](const std::string& metric) { return metric.rfind("cost_", 0) == 0; };
  return std::any_of(spec.objectives.begin(), spec.objectives.end(),
                     [&](const SweepObjective& o) { return is_cost(o.metric); }) ||
         std::any_of(spec.constraints.begin(), spec.constraints.end(),
                     [&](const SweepConstraint& c) { return is_cost(c.metric); });
}

void set_plan_cost(const nlohmann::json& config, const nlohmann::json& summary, PriceBook& prices, SweepRow& row) {
  // The pools of GPUs the plan rents: one (the node's) for a co-located plan, the prefill and decode
  // pools (each on its own hardware, or the node's) for a disaggregated one.
  std::vector<std::pair<nlohmann::json, int64_t>> pools;
  const nlohmann::json hardware = config.value("hardware", nlohmann::json());
  if (config.contains("disaggregation") && summary.contains("replicas")) {
    for (const char* role : {"prefill", "decode"}) {
      const nlohmann::json& pool = config.at("disaggregation").value(role, nlohmann::json::object());
      int64_t gpus = 0;
      for (const auto& replica : summary.at("replicas")) {
        if (replica.value("role", "") == role) gpus += replica.value("gpus", int64_t{0});
      }
      pools.emplace_back(pool.contains("hardware") ? pool.at("hardware") : hardware, gpus);
    }
  } else {
    pools.emplace_back(hardware, row.gpus);
  }
  double usd_per_hour = 0.0;
  for (const auto& [node, gpus] : pools) {
    const std::optional<GpuPrice> price = prices.price(node);
    if (!price) {
      const std::string name = PriceBook::hardware_name(node);
      if (std::find(row.unpriced.begin(), row.unpriced.end(), name) == row.unpriced.end()) row.unpriced.push_back(name);
      continue;
    }
    usd_per_hour += static_cast<double>(gpus) * price->usd_per_gpu_hour;
  }
  if (!row.unpriced.empty()) return;
  const auto& names = sweep_metric_names();
  auto set = [&](const char* name, double value) {
    row.metrics[static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin())] = value;
  };
  set("cost_per_hour", usd_per_hour);
  const double tokens_per_s = number_at(summary, "/throughput/output_tokens_per_s");
  set("cost_per_million_output_tokens", tokens_per_s > 0.0 ? usd_per_hour / (tokens_per_s * 3600.0) * 1e6 : kMissing);
}

void evaluate_rows(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
                   std::vector<SweepRow>& rows) {
  const bool uses_cost = sweep_uses_cost(spec);
  for (SweepRow& row : rows) {
    if (row.status != "ok") continue;
    const std::string dir = run_dir(options, row.index);
    set_plan_cost(*load_json_file(dir + "/config.resolved.json"), *load_json_file(dir + "/summary.json"), prices, row);
    if (uses_cost && !row.unpriced.empty()) {
      std::string names;
      for (const auto& name : row.unpriced) names += (names.empty() ? "" : ", ") + name;
      row.reason = "not priced: " + names + " has no GPU price (hardware catalog \"price\" or the sweep's \"prices\")";
    }
    row.violated.clear();
    for (const auto& constraint : spec.constraints) {
      if (!constraint.holds(row_value(row, constraint.metric))) row.violated.push_back(constraint.metric);
    }
  }
}

std::vector<SweepRow> run_sweep(const SweepSpec& spec, const SweepRunOptions& options) {
  const std::size_t total = spec.plans();
  const std::filesystem::path runs = std::filesystem::path(options.out_dir) / "runs";
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(runs, error)) && !std::filesystem::is_directory(runs, error)) {
    throw ConfigError::at(runs.string(), "exists and is not a directory (the sweep writes each plan's run under it)");
  }
  std::filesystem::create_directories(runs, error);
  if (error || !std::filesystem::is_directory(runs)) {
    throw ConfigError::at(runs.string(), "cannot create the runs directory (" +
                                             (error ? error.message() : std::string("not a directory")) + ")");
  }
  std::vector<SweepRow> rows(total);
  struct Child {
    std::size_t index;
    int fd;
  };
  std::map<pid_t, Child> running;
  std::size_t next = 0;
  std::size_t done = 0;
  const std::size_t jobs = static_cast<std::size_t>(options.jobs < 1 ? 1 : options.jobs);
  while (done < total) {
    while (next < total && running.size() < jobs) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error("sweep: pipe failed");
      std::fflush(nullptr);  // nothing buffered in the parent may be written twice
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("sweep: fork failed");
      if (pid == 0) {
        ::close(fds[0]);
        for (const auto& [other, child] : running) ::close(child.fd);
        run_child(spec, options, next, fds[1]);
      }
      ::close(fds[1]);
      register_child(pid);  // a signal to the sweep reaches its plans, which remove their partial files
      running.emplace(pid, Child{next, fds[0]});
      ++next;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("sweep: waitpid failed");
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    unregister_child(pid);
    const Child child = it->second;
    running.erase(it);
    const std::string report = read_all(child.fd);
    ::close(child.fd);
    rows[child.index] = finish_row(options, child.index, status, report);
    ++done;
    if (options.on_done) options.on_done(done, total, rows[child.index]);
  }
  return rows;
}

void remove_stale_runs(const SweepRunOptions& options, std::size_t plans) {
  const std::filesystem::path runs = std::filesystem::path(options.out_dir) / "runs";
  std::error_code error;
  std::vector<std::filesystem::path> stale;
  for (const auto& entry : std::filesystem::directory_iterator(runs, error)) {
    const std::string name = entry.path().filename().string();
    const bool index = !name.empty() && name.size() < 19 && name.find_first_not_of("0123456789") == std::string::npos;
    if (index && std::stoull(name) >= plans && entry.is_directory(error)) stale.push_back(entry.path());
  }
  for (const auto& dir : stale) {
    // Only a directory holding nothing but run outputs is a run: anything else stays.
    bool only_outputs = true;
    for (const auto& file : std::filesystem::directory_iterator(dir, error)) {
      const auto& names = run_output_names();
      only_outputs = only_outputs && std::find(names.begin(), names.end(), file.path().filename().string()) != names.end();
    }
    if (only_outputs && !error) std::filesystem::remove_all(dir, error);
  }
}

std::vector<std::size_t> sweep_pareto(const SweepSpec& spec, const std::vector<SweepRow>& rows) {
  std::vector<std::size_t> candidates;
  std::vector<std::vector<double>> points;
  std::vector<bool> maximize;
  for (const auto& objective : spec.objectives) maximize.push_back(objective.maximize);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].status != "ok" || !rows[i].violated.empty()) continue;
    std::vector<double> point;
    for (const auto& objective : spec.objectives) point.push_back(row_value(rows[i], objective.metric));
    candidates.push_back(i);
    points.push_back(std::move(point));
  }
  std::vector<std::size_t> front;
  for (std::size_t at : pareto_front(points, maximize)) front.push_back(candidates[at]);
  return front;
}

std::string sweep_csv(const SweepSpec& spec, const std::vector<SweepRow>& rows) {
  std::string text = csv_header(spec);
  for (const auto& row : rows) text += csv_line(spec, row);
  return text;
}

std::string pareto_csv(const SweepSpec& spec, const std::vector<SweepRow>& rows,
                       const std::vector<std::size_t>& front) {
  std::string text = csv_header(spec);
  for (std::size_t i : front) text += csv_line(spec, rows[i]);
  return text;
}

}  // namespace servesim

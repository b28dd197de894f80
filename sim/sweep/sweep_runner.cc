#include "sim/sweep/sweep_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>  // renameat2, RENAME_EXCHANGE
#include <cstring>
#include <exception>
#include <functional>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/config/provenance.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"
#include "sim/io/interrupt.h"
#include "sim/io/output_dir.h"
#include "sim/sweep/capacity_search.h"
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

// What a child reports about its one simulation.
struct SimReport {
  std::string status;  // "ok", "infeasible", "error"
  std::string reason;
  int64_t gpus = 0;
};

// The child: one simulation through drive_run; reports {status, reason, gpus} on `fd` and exits.
[[noreturn]] void run_child(const nlohmann::ordered_json& config, const std::string& name, const std::string& out_dir,
                            const std::function<std::string(const RunOutcome&)>& report_html,
                            const nlohmann::ordered_json& provenance, std::size_t plan, int fd) {
  nlohmann::json report;
  try {
    auto json = std::make_shared<const nlohmann::json>(nlohmann::json::parse(config.dump()));
    RunOptions run_options;
    run_options.out_dir = out_dir;
    run_options.progress_label.clear();
    run_options.report_html = report_html;
    run_options.distributions = static_cast<bool>(report_html);
    if (!provenance.is_null()) {
      run_options.provenance = [&provenance, plan](const nlohmann::ordered_json& resolved) {
        nlohmann::ordered_json out = provenance;
        out["plan"] = plan;
        out["gpus"] = gpu_calibrations(plan_hardware(resolved));
        return out;
      };
    }
    const RunOutcome outcome = drive_run(json, name, run_options);
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

SimReport read_report(int wait_status, const std::string& text) {
  SimReport report;
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0 || !json.is_object()) {
    report.status = "error";
    report.reason = WIFSIGNALED(wait_status) ? "run crashed (signal " + std::to_string(WTERMSIG(wait_status)) + ")"
                                             : "run ended without a report";
    return report;
  }
  report.status = json.at("status").get<std::string>();
  report.reason = json.value("reason", "");
  report.gpus = json.value("gpus", int64_t{0});
  return report;
}

std::string runs_root(const SweepRunOptions& options) {
  return (std::filesystem::path(options.out_dir) / "runs").string();
}

std::string staging_dir(const SweepRunOptions& options, std::size_t index) {
  return runs_root(options) + "/." + std::to_string(index) + ".partial";
}

std::string probe_dir(const SweepRunOptions& options, std::size_t index) {
  return runs_root(options) + "/." + std::to_string(index) + ".probe";
}

// What may be in runs/<i>: a run's outputs and plan.json.
bool is_plan_file(const std::string& name) {
  const auto& names = run_output_names();
  return name == "plan.json" || std::find(names.begin(), names.end(), name) != names.end();
}

// A plan's rate setting: the generator's rate or the trace's rate_scale, its allowed range.
struct RateSetting {
  std::string pointer;
  double value = 1.0;  // the plan's own (1 when left out: both default to 1)
  double min_value = 0.0, max_value = 0.0;
  bool trace = false;
};

std::optional<RateSetting> rate_setting(const nlohmann::ordered_json& config) {
  RateSetting setting;
  const nlohmann::ordered_json::json_pointer trace("/workload/trace"), generator("/workload/generator");
  if (config.contains(trace) && config.at(trace).is_object()) {
    setting.pointer = "/workload/trace/rate_scale";
    setting.trace = true;
    setting.min_value = 1e-6;  // the range the run config reader allows
    setting.max_value = 1e6;
  } else if (config.contains(generator) && config.at(generator).is_object()) {
    setting.pointer = "/workload/generator/rate";
    setting.min_value = 1e-9;
    setting.max_value = 1e9;
  } else {
    return std::nullopt;
  }
  const nlohmann::ordered_json::json_pointer at(setting.pointer);
  if (config.contains(at)) {
    if (!config.at(at).is_number() || !(config.at(at).get<double>() > 0.0)) return std::nullopt;
    setting.value = config.at(at).get<double>();
  }
  // Search at most a factor 2^20 either way of the plan's own value.
  setting.min_value = std::fmax(setting.min_value, setting.value / 1048576.0);
  setting.max_value = std::fmin(setting.max_value, setting.value * 1048576.0);
  return setting;
}

// Mean arrival rate of a run's requests: (n - 1) / (last arrival - first arrival), from requests.csv.
double arrival_rate(const std::string& dir) {
  std::ifstream in(dir + "/requests.csv");
  std::string line;
  if (!std::getline(in, line)) return kMissing;
  int column = -1;
  {
    std::istringstream header(line);
    std::string cell;
    for (int k = 0; std::getline(header, cell, ','); ++k) {
      if (cell == "arrival_s") column = k;
    }
  }
  if (column < 0) return kMissing;
  double first = std::numeric_limits<double>::infinity(), last = -first;
  int64_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int k = 0; k <= column && std::getline(row, cell, ','); ++k) {
    }
    const double t = std::strtod(cell.c_str(), nullptr);
    first = std::fmin(first, t);
    last = std::fmax(last, t);
    ++n;
  }
  return n >= 2 && last > first ? static_cast<double>(n - 1) / (last - first) : kMissing;
}

// The metrics of the run in `dir` (cost included) and the constraints they miss.
struct Measured {
  std::vector<double> metrics;
  std::vector<std::string> violated;
  double output_tokens_per_s = kMissing;
};

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
  // The same GPUs' cost over the output tokens of one hour at the highest rate meeting the constraints.
  const double max_rate_tokens_per_s = row.max_rate_output_tokens_per_s;
  set("max_rate_cost_per_million_output_tokens",
      max_rate_tokens_per_s > 0.0 ? usd_per_hour / (max_rate_tokens_per_s * 3600.0) * 1e6 : kMissing);
}


Measured measure_run(const SweepSpec& spec, PriceBook& prices, const std::string& dir, int64_t gpus) {
  SweepRow row;
  row.gpus = gpus;
  const auto summary = load_json_file(dir + "/summary.json");
  row.metrics = sweep_metrics(*summary, gpus);
  set_plan_cost(*load_json_file(dir + "/config.resolved.json"), *summary, prices, row);
  Measured measured{row.metrics, {}, number_at(*summary, "/throughput/output_tokens_per_s")};
  for (const auto& constraint : spec.constraints) {
    if (!constraint.holds(row_value(row, constraint.metric))) measured.violated.push_back(constraint.metric);
  }
  return measured;
}

bool rate_independent(const std::string& metric) { return metric == "gpus" || metric == "cost_per_hour"; }

nlohmann::ordered_json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json();
}

double number_of(const nlohmann::json& json, const char* key) {
  return json.contains(key) && json.at(key).is_number() ? json.at(key).get<double>() : kMissing;
}

// What a plan's result depends on besides the code: plan.json keeps it, and --resume keeps a plan
// only if it matches.
// `settings`: sweep_settings(spec), the part all plans share.
nlohmann::ordered_json sweep_settings(const SweepSpec& spec, const SweepRunOptions& options) {
  const nlohmann::ordered_json resolved = spec.resolved();
  return {{"constraints", resolved.value("constraints", nlohmann::ordered_json::object())},
          {"capacity", resolved.value("capacity", nlohmann::ordered_json::object())},
          {"prices", spec.prices},
          {"run_report", static_cast<bool>(options.run_report_html)}};
}

nlohmann::ordered_json plan_key(const SweepSpec& spec, const nlohmann::ordered_json& settings, std::size_t index) {
  nlohmann::ordered_json key;
  key["plan"] = index;
  key["config"] = spec.config(index);
  for (const auto& [name, value] : settings.items()) key[name] = value;
  return key;
}

void commit_directory(const std::string& staging, const std::string& final_dir);

// One plan in progress: its own run, then (with a capacity search) one simulation at a time at the
// rates the search proposes.
class PlanWork {
 public:
  PlanWork(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
           const nlohmann::ordered_json& settings, std::size_t index)
      : spec_(spec), options_(options), prices_(prices), index_(index), record_(plan_key(spec, settings, index)),
        config_(record_.at("config")),
        search_(spec.capacity.precision, spec.capacity.max_sims, 0.0, 0.0) {}

  std::size_t index() const { return index_; }

  /// The next simulation (config, output directory), or nullopt when the plan is done.
  std::optional<std::pair<nlohmann::ordered_json, std::string>> next_sim() const {
    if (!base_done_) return std::make_pair(config_, staging_dir(options_, index_));
    if (!searching_) return std::nullopt;
    const std::optional<double> value = search_.next();
    if (!value) return std::nullopt;
    nlohmann::ordered_json config = config_;
    config[nlohmann::ordered_json::json_pointer(setting_.pointer)] = *value;
    pending_value_ = *value;
    return std::make_pair(config, probe_dir(options_, index_));
  }

  /// Takes the report of the simulation next_sim() gave.
  void finished(const SimReport& report) {
    if (!base_done_) {
      base_done_ = true;
      record_["status"] = report.status;
      record_["reason"] = report.reason;
      record_["gpus"] = report.gpus;
      gpus_ = report.gpus;
      if (report.status == "ok" && spec_.capacity.enabled) start_search();
      return;
    }
    const std::string dir = probe_dir(options_, index_);
    nlohmann::ordered_json probe = {{"setting", pending_value_}, {"status", report.status}};
    bool holds = false;
    if (report.status == "ok") {
      const Measured measured = measure_run(spec_, prices_, dir, gpus_);
      holds = measured.violated.empty();
      probe["violated"] = measured.violated;
      if (holds && !(pending_value_ <= search_.best())) {
        best_goodput_ = goodput_per_gpu(measured);
        best_output_tokens_per_s_ = measured.output_tokens_per_s;
      }
    } else {
      probe["reason"] = report.reason;
    }
    probe["holds"] = holds;
    probes_.push_back(probe);
    search_.record(pending_value_, holds);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  /// Writes plan.json into the staging directory and renames it to runs/<index>.
  void commit() {
    const std::string staging = staging_dir(options_, index_);
    if (searching_ || !skipped_.empty()) record_["capacity_search"] = search_result();
    std::error_code error;
    std::filesystem::create_directories(staging, error);  // a plan that did not run left nothing
    write_output_file(staging + "/plan.json", record_.dump(2) + "\n");
    commit_directory(staging, run_dir(options_, index_));
  }

 private:
  static double goodput_per_gpu(const Measured& measured) {
    const auto& names = sweep_metric_names();
    return measured.metrics[static_cast<std::size_t>(
        std::find(names.begin(), names.end(), "goodput_requests_per_s_per_gpu") - names.begin())];
  }

  void start_search() {
    const std::optional<RateSetting> setting = rate_setting(config_);
    if (!setting) {
      skipped_ = "the workload has no generator rate or trace rate_scale to search";
      return;
    }
    setting_ = *setting;
    search_ = CapacitySearch(spec_.capacity.precision, spec_.capacity.max_sims, setting_.min_value, setting_.max_value);
    const std::string staging = staging_dir(options_, index_);
    const Measured base = measure_run(spec_, prices_, staging, gpus_);
    // A trace's rate_scale in requests/s: arrivals scale exactly with it, so one run's mean rate fixes it.
    req_s_per_unit_ = setting_.trace ? arrival_rate(staging) / setting_.value : 1.0;
    std::string fixed;
    for (const auto& name : base.violated) {
      if (rate_independent(name)) fixed += (fixed.empty() ? "" : ", ") + name;
    }
    nlohmann::ordered_json probe = {{"setting", setting_.value}, {"status", "ok"}, {"violated", base.violated},
                                    {"holds", base.violated.empty()}};
    probes_.push_back(probe);
    search_.record(setting_.value, base.violated.empty());
    if (base.violated.empty()) {
      best_goodput_ = goodput_per_gpu(base);
      best_output_tokens_per_s_ = base.output_tokens_per_s;
    }
    if (!fixed.empty()) {
      skipped_ = fixed + " fail at every rate";
      return;
    }
    searching_ = true;
  }

  nlohmann::ordered_json search_result() const {
    nlohmann::ordered_json out;
    out["setting"] = setting_.pointer;
    out["plan_setting"] = setting_.value;
    out["req_s_per_setting"] = number_or_null(req_s_per_unit_);
    out["sims"] = search_.sims();
    if (!skipped_.empty()) {
      out["stopped"] = "not searched: " + skipped_;
      out["max_rate_req_s"] = nullptr;
    } else {
      const double best = search_.best();
      out["stopped"] = search_.stopped();
      out["max_setting"] = number_or_null(best);
      double rate = best * req_s_per_unit_;
      if (std::isnan(best) && search_.stopped() == "the constraints fail down to the lowest rate allowed") rate = 0.0;
      out["max_rate_req_s"] = number_or_null(rate);
      out["precision"] = number_or_null(search_.precision_reached());
      out["max_goodput_requests_per_s_per_gpu"] = number_or_null(best_goodput_);
      out["max_rate_output_tokens_per_s"] = number_or_null(best_output_tokens_per_s_);
    }
    out["probes"] = probes_;
    return out;
  }

  const SweepSpec& spec_;
  const SweepRunOptions& options_;
  PriceBook& prices_;
  std::size_t index_;
  nlohmann::ordered_json record_;  // plan.json
  nlohmann::ordered_json config_;
  bool base_done_ = false;
  bool searching_ = false;
  std::string skipped_;  // why no search although one was asked for
  int64_t gpus_ = 0;
  RateSetting setting_;
  CapacitySearch search_;
  double req_s_per_unit_ = kMissing;
  double best_goodput_ = kMissing;
  double best_output_tokens_per_s_ = kMissing;
  mutable double pending_value_ = 0.0;
  nlohmann::ordered_json probes_ = nlohmann::ordered_json::array();
};

// Renames the finished `staging` directory to `final_dir` in one step: plainly when there is none,
// else by exchanging the two (renameat2 RENAME_EXCHANGE) and removing the old one, so `final_dir` is
// at every moment one complete result.
void commit_directory(const std::string& staging, const std::string& final_dir) {
  std::error_code error;
  if (!std::filesystem::exists(std::filesystem::symlink_status(final_dir, error))) {
    if (::rename(staging.c_str(), final_dir.c_str()) != 0) {
      throw ConfigError::at(final_dir, std::string("cannot move the plan's result into place (") +
                                           std::strerror(errno) + ")");
    }
    return;
  }
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
    std::filesystem::remove_all(staging, error);
    return;
  }
  // A file system without RENAME_EXCHANGE: the old result goes aside first (a short window without one).
  const std::string aside = staging + ".old";
  std::filesystem::remove_all(aside, error);
  if (::rename(final_dir.c_str(), aside.c_str()) != 0 || ::rename(staging.c_str(), final_dir.c_str()) != 0) {
    throw ConfigError::at(final_dir, std::string("cannot move the plan's result into place (") +
                                         std::strerror(errno) + ")");
  }
  std::filesystem::remove_all(aside, error);
}

// The row of a committed plan, from runs/<index>/plan.json and summary.json (cost: evaluate_rows).
SweepRow load_row(const SweepRunOptions& options, std::size_t index) {
  const std::string dir = run_dir(options, index);
  const auto record = load_json_file(dir + "/plan.json");
  SweepRow row;
  row.index = index;
  row.status = record->at("status").get<std::string>();
  row.reason = record->value("reason", "");
  row.metrics.assign(sweep_metric_names().size(), kMissing);
  if (row.status != "ok") return row;
  row.gpus = record->at("gpus").get<int64_t>();
  row.metrics = sweep_metrics(*load_json_file(dir + "/summary.json"), row.gpus);
  if (record->contains("capacity_search")) {
    const nlohmann::json& search = record->at("capacity_search");
    const auto& names = sweep_metric_names();
    auto set = [&](const char* name, double value) {
      row.metrics[static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin())] = value;
    };
    const double rate = number_of(search, "max_rate_req_s");
    set("max_rate_req_s", rate);
    set("max_rate_req_s_per_gpu", rate / static_cast<double>(row.gpus));
    set("max_goodput_requests_per_s_per_gpu", number_of(search, "max_goodput_requests_per_s_per_gpu"));
    row.max_rate_output_tokens_per_s = number_of(search, "max_rate_output_tokens_per_s");  // priced by evaluate_rows
    set("max_rate_precision", number_of(search, "precision"));
    set("capacity_sims", number_of(search, "sims"));
  }
  return row;
}

// Whether runs/<index> already holds this plan's result (for --resume).
bool plan_done(const SweepSpec& spec, const SweepRunOptions& options, const nlohmann::ordered_json& settings,
               std::size_t index) {
  const std::string dir = run_dir(options, index);
  std::error_code error;
  if (!std::filesystem::is_regular_file(dir + "/plan.json", error)) return false;
  const nlohmann::ordered_json record =
      nlohmann::ordered_json::parse(read_json_file_text(dir + "/plan.json"), nullptr, false);
  if (!record.is_object() || !record.contains("status")) return false;
  const nlohmann::ordered_json key = plan_key(spec, settings, index);
  for (const auto& [name, value] : key.items()) {
    if (!record.contains(name) || record.at(name) != value) return false;
  }
  return record.at("status") != "ok" || std::filesystem::is_regular_file(dir + "/summary.json", error);
}

// Removes what an interrupted sweep left in runs/: hidden staging and probe directories.
void remove_leftovers(const SweepRunOptions& options) {
  std::error_code error;
  std::vector<std::filesystem::path> leftovers;
  for (const auto& entry : std::filesystem::directory_iterator(runs_root(options), error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 3 || name[0] != '.') continue;
    const std::size_t dot = name.find('.', 1);
    if (dot == std::string::npos || dot == 1 || name.find_first_not_of("0123456789", 1) != dot) continue;
    const std::string kind = name.substr(dot);
    if (kind == ".partial" || kind == ".probe" || kind == ".partial.old") leftovers.push_back(entry.path());
  }
  for (const auto& path : leftovers) std::filesystem::remove_all(path, error);
}

// Refuses to replace a runs/<i> holding files a sweep does not write (before anything is simulated).
void check_run_dirs(const SweepRunOptions& options, std::size_t plans) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(runs_root(options), error)) {
    const std::string name = entry.path().filename().string();
    const bool index = !name.empty() && name.size() < 19 && name.find_first_not_of("0123456789") == std::string::npos;
    if (!index || std::stoull(name) >= plans) continue;
    if (!entry.is_directory(error)) {
      throw ConfigError::at(entry.path().string(), "is not a directory; the sweep writes plan " + name + "'s run there");
    }
    for (const auto& file : std::filesystem::directory_iterator(entry.path(), error)) {
      if (!is_plan_file(file.path().filename().string())) {
        throw ConfigError::at(file.path().string(), "is not a sweep output; the sweep replaces " +
                                                        entry.path().string() + " with plan " + name + "'s run");
      }
    }
  }
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
  return line + ",violated,datasheet_power\n";
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
  const auto& names = sweep_metric_names();
  for (std::size_t m = 0; m < row.metrics.size(); ++m) {
    const double value = row.metrics[m];
    const bool count = names[m] == "capacity_sims" && !std::isnan(value);  // a count, written as one
    append_cell(line, count ? std::to_string(static_cast<int64_t>(value)) : number_text(value));
  }
  std::string violated;
  for (const auto& name : row.violated) violated += (violated.empty() ? "" : " ") + name;
  append_cell(line, violated);
  std::string datasheet;
  for (const auto& name : row.datasheet_power) datasheet += (datasheet.empty() ? "" : " ") + name;
  append_cell(line, csv_cell(datasheet));
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
  auto is_cost = [](const std::string& metric) { return metric.find("cost_per_") != std::string::npos; };
  return std::any_of(spec.objectives.begin(), spec.objectives.end(),
                     [&](const SweepObjective& o) { return is_cost(o.metric); }) ||
         std::any_of(spec.constraints.begin(), spec.constraints.end(),
                     [&](const SweepConstraint& c) { return is_cost(c.metric); });
}

void evaluate_rows(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
                   std::vector<SweepRow>& rows) {
  const bool uses_cost = sweep_uses_cost(spec);
  for (SweepRow& row : rows) {
    if (row.status != "ok") continue;
    const std::string dir = run_dir(options, row.index);
    const auto resolved = load_json_file(dir + "/config.resolved.json");
    set_plan_cost(*resolved, *load_json_file(dir + "/summary.json"), prices, row);
    row.datasheet_power.clear();
    for (const nlohmann::json& hardware : plan_hardware(nlohmann::ordered_json(*resolved))) {
      const GpuCalibration c = hardware_calibration(hardware);
      if (!c.power_measured) row.datasheet_power.push_back(c.hardware);
    }
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

SweepPlans prepare_sweep(const SweepSpec& spec, const SweepRunOptions& options) {
  const std::size_t total = spec.plans();
  const std::filesystem::path runs = runs_root(options);
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(runs, error)) && !std::filesystem::is_directory(runs, error)) {
    throw ConfigError::at(runs.string(), "exists and is not a directory (the sweep writes each plan's run under it)");
  }
  std::filesystem::create_directories(runs, error);
  if (error || !std::filesystem::is_directory(runs)) {
    throw ConfigError::at(runs.string(), "cannot create the runs directory (" +
                                             (error ? error.message() : std::string("not a directory")) + ")");
  }
  remove_leftovers(options);
  check_run_dirs(options, total);
  SweepPlans plans;
  plans.settings = sweep_settings(spec, options);
  plans.rows.resize(total);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < total; ++i) {
    if (options.resume && plan_done(spec, options, plans.settings, i)) {
      plans.rows[i] = load_row(options, i);
      ++kept;
    } else {
      plans.todo.push_back(i);
    }
  }
  if (options.resume && options.on_resumed) options.on_resumed(kept, total);
  return plans;
}

std::vector<SweepRow> run_sweep(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices) {
  SweepPlans plans = prepare_sweep(spec, options);
  std::size_t done = plans.rows.size() - plans.todo.size();
  run_plans(spec, options, prices, plans.settings, plans.todo, [&](std::size_t index) {
    plans.rows[index] = load_row(options, index);
    ++done;
    if (options.on_done) options.on_done(done, plans.rows.size(), plans.rows[index]);
  });
  return std::move(plans.rows);
}

void run_plans(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
               const nlohmann::ordered_json& settings, const std::vector<std::size_t>& todo,
               const std::function<void(std::size_t index)>& on_committed) {
  std::size_t committed = 0;
  struct Child {
    PlanWork* plan;
    int fd;
  };
  std::map<pid_t, Child> running;
  std::vector<std::unique_ptr<PlanWork>> active;  // started, not committed (at most `jobs`)
  std::size_t next = 0;
  const std::size_t jobs = static_cast<std::size_t>(options.jobs < 1 ? 1 : options.jobs);
  const pid_t parent = ::getpid();
  auto idle = [&](const PlanWork* plan) {
    return std::none_of(running.begin(), running.end(), [&](const auto& entry) { return entry.second.plan == plan; });
  };
  try {
    while (committed < todo.size()) {
      while (running.size() < jobs) {
        // Plans under way come first (their next rate), then the next plan in order.
        PlanWork* plan = nullptr;
        std::optional<std::pair<nlohmann::ordered_json, std::string>> sim;
        for (const auto& work : active) {
          if (!idle(work.get())) continue;
          sim = work->next_sim();
          if (sim) {
            plan = work.get();
            break;
          }
        }
        if (!plan && next < todo.size()) {
          active.push_back(std::make_unique<PlanWork>(spec, options, prices, settings, todo[next++]));
          plan = active.back().get();
          sim = plan->next_sim();
        }
        if (!plan) break;
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("sweep: pipe failed");
        std::fflush(nullptr);  // nothing buffered in the parent may be written twice
        // Signals wait until the child is registered, so the handler stops every child there is.
        sigset_t stop_signals, previous;
        sigemptyset(&stop_signals);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
        ::sigprocmask(SIG_BLOCK, &stop_signals, &previous);
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("sweep: fork failed");
        if (pid == 0) {
          // The child ends with the sweep: SIGTERM (its handler removes its partial files) when the
          // parent dies, however it dies; and if it died before this line, now.
          ::prctl(PR_SET_PDEATHSIG, SIGTERM);
          if (::getppid() != parent) ::raise(SIGTERM);
          ::close(fds[0]);
          for (const auto& [other, child] : running) {
            ::close(child.fd);
            unregister_child(other);  // siblings are not this child's to signal
          }
          ::sigprocmask(SIG_SETMASK, &previous, nullptr);
          // The plan's own run writes its report.html; the other rates of a capacity search do not.
          const bool own_run = sim->second == staging_dir(options, plan->index());
          run_child(sim->first, spec.base_name, sim->second,
                    own_run ? options.run_report_html : std::function<std::string(const RunOutcome&)>(),
                    options.provenance, plan->index(), fds[1]);
        }
        ::close(fds[1]);
        register_child(pid);  // a signal to the sweep reaches its plans, which remove their partial files
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        running.emplace(pid, Child{plan, fds[0]});
      }
      if (running.empty()) throw std::logic_error("sweep: plans left but nothing to run");
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
      child.plan->finished(read_report(status, report));
      if (child.plan->next_sim()) continue;
      child.plan->commit();
      const std::size_t index = child.plan->index();
      active.erase(std::find_if(active.begin(), active.end(), [&](const auto& work) { return work.get() == child.plan; }));
      ++committed;
      on_committed(index);
    }
  } catch (...) {
    // A failure in the parent (a bad price, a full disk) stops the children; their plans stay unfinished.
    for (const auto& [pid, child] : running) ::kill(pid, SIGTERM);
    for (const auto& [pid, child] : running) {
      ::waitpid(pid, nullptr, 0);
      unregister_child(pid);
      ::close(child.fd);
    }
    throw;
  }
}

SweepRow load_plan_row(const SweepRunOptions& options, std::size_t index) { return load_row(options, index); }

void commit_plan_directory(const std::string& staging, const std::string& final_dir) {
  commit_directory(staging, final_dir);
}

std::string plan_staging_dir(const SweepRunOptions& options, std::size_t index) { return staging_dir(options, index); }

void remove_failed_plans(const SweepRunOptions& options, const std::vector<SweepRow>& rows) {
  std::error_code error;
  for (const auto& row : rows) {
    if (row.status == "ok") continue;
    const std::string dir = run_dir(options, row.index);
    std::filesystem::remove(dir + "/plan.json", error);
    std::filesystem::remove(dir, error);  // only if empty
  }
  std::filesystem::remove(runs_root(options), error);  // only if empty
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
      only_outputs = only_outputs && is_plan_file(file.path().filename().string());
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

// JSON-lines traces: Mooncake (timestamp ms, input_length, output_length,
// hash_ids in 512-token blocks) and the generic format (arrival_s,
// input_tokens, output_tokens, optional prefix_hashes or prefix_group +
// prefix_tokens, session and priority). Groups and sessions are integers or
// strings.
#include <cmath>
#include <limits>

#include <optional>

#include <nlohmann/json.hpp>

#include "sim/core/config_node.h"
#include "sim/core/registry.h"
#include "traces/impl/text_trace.h"

namespace servesim {
namespace {

struct JsonlKeys {
  const char* time;
  double time_to_s;
  const char* input;
  const char* output;
  const char* hashes;
  const char* priority;  // nullptr = none
  bool groups_and_sessions;  // prefix_group / prefix_tokens / session
};

class JsonlTrace : public TextTrace {
 public:
  JsonlTrace(const std::string& path, JsonlKeys keys, int64_t hash_block_tokens)
      : TextTrace(path), keys_(keys), hash_block_tokens_(hash_block_tokens) {}

 protected:
  bool read_record(RequestSpec& out) override {
    std::string_view line;
    do {
      if (!reader_.next(line)) return false;
    } while (line.find_first_not_of(" \t") == std::string_view::npos);
    JsonProblem problem;
    std::optional<nlohmann::json> parsed = parse_json_strict(line, &problem);
    if (!parsed && problem.pointer) reader_.fail((problem.pointer->empty() ? "/" : *problem.pointer) + ": " + problem.message);
    if (!parsed || !parsed->is_object()) reader_.fail("expected one JSON object per line");
    const nlohmann::json& record = *parsed;
    const double time = number(record, keys_.time);
    if (time < 0.0) reader_.fail(std::string(keys_.time) + ": must be >= 0, got " + describe_json_value(record.at(keys_.time)));
    out.arrival_s = relative_arrival(time * keys_.time_to_s);
    out.input_tokens = count(record, keys_.input);
    out.output_tokens = count(record, keys_.output);
    out.prefix_hashes.clear();
    out.hash_block_tokens = 0;
    auto hashes = record.find(keys_.hashes);
    if (hashes != record.end()) {
      if (!hashes->is_array()) reader_.fail(std::string(keys_.hashes) + ": expected an array of integers");
      out.prefix_hashes.reserve(hashes->size());
      for (const auto& h : *hashes) {
        if (!h.is_number_integer()) reader_.fail(std::string(keys_.hashes) + ": expected an array of integers");
        out.prefix_hashes.push_back(h.get<int64_t>());
      }
      out.hash_block_tokens = hash_block_tokens_;
    }
    out.session = 0;
    if (keys_.groups_and_sessions) read_group_and_session(record, out);
    out.priority = 0;
    if (keys_.priority != nullptr) {
      auto priority = record.find(keys_.priority);
      if (priority != record.end()) {
        if (!priority->is_number_integer() ||
            (priority->is_number_unsigned() &&
             priority->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
          reader_.fail(std::string(keys_.priority) + ": expected an integer (64-bit signed)");
        }
        out.priority = priority->get<int64_t>();
      }
    }
    out.line = reader_.line_number();
    return true;
  }

 private:
  // An integer or string naming a group or session.
  uint64_t identity(const nlohmann::json& value, const char* key) const {
    if (value.is_string()) return content_id(value.get<std::string>());
    if (value.is_number_integer()) return content_id("#" + value.dump());  // apart from the string "7"
    reader_.fail(std::string(key) + ": expected an integer or a string, got " + describe_json_value(value));
  }
  void read_group_and_session(const nlohmann::json& record, RequestSpec& out) const {
    auto group = record.find("prefix_group");
    auto tokens = record.find("prefix_tokens");
    if ((group == record.end()) != (tokens == record.end())) {
      reader_.fail(group == record.end() ? "prefix_tokens needs prefix_group" : "prefix_group needs prefix_tokens");
    }
    if (group != record.end()) {
      if (!out.prefix_hashes.empty()) reader_.fail("prefix_group: give prefix_group or prefix_hashes, not both");
      const int64_t length = count(record, "prefix_tokens");
      if (length < 1 || length > out.input_tokens) {
        reader_.fail("prefix_tokens: must be 1 to input_tokens (" + std::to_string(out.input_tokens) + "), got " +
                     std::to_string(length));
      }
      set_prefix_group(out, identity(*group, "prefix_group"), length);
    }
    auto session = record.find("session");
    if (session != record.end()) out.session = identity(*session, "session");
  }

  double number(const nlohmann::json& record, const char* key) const {
    auto it = record.find(key);
    if (it == record.end()) reader_.fail(std::string("missing field '") + key + "'");
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      reader_.fail(std::string(key) + ": expected a number, got " + describe_json_value(*it));
    }
    return it->get<double>();
  }
  int64_t count(const nlohmann::json& record, const char* key) const {
    auto it = record.find(key);
    if (it == record.end()) reader_.fail(std::string("missing field '") + key + "'");
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      reader_.fail(std::string(key) + ": expected a non-negative integer token count, got " + describe_json_value(*it));
    }
    check_token_count(reader_, key, it->get<int64_t>(), it->dump());
    return it->get<int64_t>();
  }

  JsonlKeys keys_;
  int64_t hash_block_tokens_;
};

SERVESIM_REGISTER(TraceSource, "mooncake",
                  "Mooncake FAST'25 JSONL: timestamp (ms), input_length, output_length, hash_ids (prefix blocks)",
                  (ParamSpecs{ParamSpec::integer("hash_block_tokens", 512, 1, 1 << 20,
                                                 "tokens covered by one hash_ids entry (tokens)")}),
                  [](const ParamValues& params, const std::string& path) {
                    return open_text_trace<JsonlTrace>(
                        path, JsonlKeys{"timestamp", 1e-3, "input_length", "output_length", "hash_ids", nullptr, false},
                        params.integer("hash_block_tokens"));
                  });

SERVESIM_REGISTER(TraceSource, "jsonl",
                  "generic JSONL: arrival_s (s), input_tokens, output_tokens[, prefix_hashes | prefix_group + "
                  "prefix_tokens][, session][, priority]",
                  (ParamSpecs{ParamSpec::integer("hash_block_tokens", 16, 1, 1 << 20,
                                                 "tokens covered by one prefix_hashes entry (tokens)")}),
                  [](const ParamValues& params, const std::string& path) {
                    return open_text_trace<JsonlTrace>(
                        path,
                        JsonlKeys{"arrival_s", 1.0, "input_tokens", "output_tokens", "prefix_hashes", "priority", true},
                        params.integer("hash_block_tokens"));
                  });

}  // namespace
}  // namespace servesim

// Claims about timeline.json: spans are whole nanoseconds with dur = end - start, so no two
// slices of a track overlap (Perfetto drops overlapping complete events), in the writer and
// in a whole run.
#include "traces/timeline_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"

namespace servesim {
namespace {

// Microseconds with three decimals as written: back to whole nanoseconds.
int64_t ns_of(const nlohmann::json& us) { return std::llround(us.get<double>() * 1000.0); }

// Every complete event of `doc` per (pid, tid) track as [start, end) in nanoseconds, in file order.
std::map<std::pair<int, int>, std::vector<std::pair<int64_t, int64_t>>> tracks_of(const nlohmann::json& doc) {
  std::map<std::pair<int, int>, std::vector<std::pair<int64_t, int64_t>>> tracks;
  for (const auto& event : doc.at("traceEvents")) {
    if (event.at("ph") != "X") continue;
    const int64_t start = ns_of(event.at("ts"));
    tracks[{event.at("pid").get<int>(), event.at("tid").get<int>()}].emplace_back(start,
                                                                                   start + ns_of(event.at("dur")));
  }
  return tracks;
}

// The number of slices that start before the previous slice of their track (sorted by start) ends.
int overlaps(const nlohmann::json& doc) {
  int count = 0;
  for (auto& [track, spans] : tracks_of(doc)) {
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) count += spans[i].first < spans[i - 1].second ? 1 : 0;
  }
  return count;
}

// System: 10,000 back-to-back spans whose start times and durations are not whole
// nanoseconds (iteration times as the model computes them). Before, ts and dur were each
// rounded to 1 ns, and about one in nine spans overlapped its predecessor by 1 ns.
// Expectation: none overlaps, and each span's end is the next one's start exactly.
TEST(TimelineWriter, BackToBackSpansNeverOverlapAfterRounding) {
  TimelineWriter writer;
  double t = 12345.678901234;
  for (int i = 0; i < 10000; ++i) {
    const double duration = 0.0071234567 + 1.3e-10 * (i % 17);
    writer.span(0, 0, "decode", t, duration, {{"tokens", i}});
    t += duration;
  }
  const nlohmann::json doc = nlohmann::json::parse(writer.finish());
  EXPECT_EQ(overlaps(doc), 0);
  const auto spans = tracks_of(doc).at({0, 0});
  for (std::size_t i = 1; i < spans.size(); ++i) ASSERT_EQ(spans[i].first, spans[i - 1].second) << i;
}

TEST(TimelineWriter, TimesAreWholeNanosecondsWithDurationEndMinusStart) {
  TimelineWriter writer;
  writer.span(1, 2, "prefill", 0.0000012344, 0.0000010002, {});  // [1234.4 ns, 2234.6 ns)
  const nlohmann::json doc = nlohmann::json::parse(writer.finish());
  const auto& event = doc.at("traceEvents").at(0);
  EXPECT_EQ(ns_of(event.at("ts")), 1234);
  EXPECT_EQ(ns_of(event.at("dur")), 2235 - 1234);
}

// A span that starts (by float noise) before the previous one on its track ended starts at that end.
TEST(TimelineWriter, SpanStartingInsideThePreviousOneOnItsTrackStartsAtItsEnd) {
  TimelineWriter writer;
  writer.span(0, 0, "a", 1.0, 0.5, {});
  writer.span(0, 0, "b", 1.4999999999, 0.25, {});
  writer.span(0, 1, "other lane", 1.2, 0.1, {});  // another track: untouched
  const nlohmann::json doc = nlohmann::json::parse(writer.finish());
  const auto& b = doc.at("traceEvents").at(1);
  EXPECT_EQ(ns_of(b.at("ts")), 1'500'000'000);
  EXPECT_EQ(ns_of(b.at("dur")), 250'000'000);
  EXPECT_EQ(ns_of(doc.at("traceEvents").at(2).at("ts")), 1'200'000'000);
  EXPECT_EQ(overlaps(doc), 0);
}

// System: the bundled default run (5,000 Azure-like requests on one H100) with --timeline.
// Expectation: no slice of any track overlaps another.
TEST(TimelineWriter, TimelineOfARunHasNoOverlappingSlicesOnAnyTrack) {
  const std::string dir = testing::make_temp_dir();
  const std::string config = std::string(SERVESIM_TEST_DATA_DIR) + "/../../workloads/examples/default.json";
  const auto result = testing::run_servesim("run " + config + " --timeline --out " + dir + "/out");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = nlohmann::json::parse(testing::read_file(dir + "/out/timeline.json"));
  std::size_t spans = 0;
  for (const auto& [track, list] : tracks_of(doc)) spans += list.size();
  EXPECT_GT(spans, 1000u);
  EXPECT_EQ(overlaps(doc), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace servesim

// Claims about trace readers and generators: streaming parse, exact error messages with file:line.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/core/config_error.h"
#include "sim/core/registry.h"
#include "traces/trace_source.h"
#include "workloads/generator.h"

namespace servesim {
namespace {

std::string write_file(const std::string& name, const std::string& content) {
  const std::string path = (std::filesystem::temp_directory_path() / ("servesim_trace_test_" + name)).string();
  std::ofstream(path) << content;
  return path;
}

std::unique_ptr<TraceSource> open(const std::string& format, const std::string& path) {
  const auto* entry = Registry<TraceSource>::instance().find(format);
  return entry->factory(default_params(entry->info.params), path);
}

std::string error_of(const std::string& format, const std::string& path) {
  try {
    auto source = open(format, path);
    RequestSpec spec;
    while (source->next(spec)) {
    }
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

TEST(AzureTrace, ReadsArrivalsRelativeToTheFirstRequest) {
  const std::string path = write_file("azure_ok.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.6805900,374,44\n"
                                      "2023-11-16 18:15:50.9951690,396,109\n"
                                      "2023-11-17 00:00:00.0000000,1,1\n");
  auto source = open("azure", path);
  RequestSpec spec;
  ASSERT_TRUE(source->next(spec));
  EXPECT_EQ(spec.arrival_s, 0.0);
  EXPECT_EQ(spec.input_tokens, 374);
  EXPECT_EQ(spec.output_tokens, 44);
  ASSERT_TRUE(source->next(spec));
  EXPECT_NEAR(spec.arrival_s, 4.314579, 1e-6);
  ASSERT_TRUE(source->next(spec));
  EXPECT_NEAR(spec.arrival_s, 5 * 3600 + 44 * 60 + 13.31941, 1e-5);  // across midnight
  EXPECT_FALSE(source->next(spec));
}

TEST(AzureTrace, UnorderedTimestampsFailWithFileAndLine) {
  const std::string path = write_file("azure_order.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.0,374,44\n"
                                      "2023-11-16 18:15:45.5,396,109\n");
  EXPECT_EQ(error_of("azure", path),
            path + ":3: timestamps out of order: -0.5 s after the start is earlier than the previous request's 0 s");
}

TEST(AzureTrace, NegativeLengthFailsWithFileAndLine) {
  const std::string path = write_file("azure_negative.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.0,-3,44\n");
  EXPECT_EQ(error_of("azure", path), path + ":2: ContextTokens: expected a non-negative integer token count, got '-3'");
}

// Two counts near 2^62 would overflow int64 when a replica adds prompt and output.
TEST(AzureTrace, TokenCountBeyondTwoToTheFortyFailsWithFileAndLine) {
  const std::string path = write_file("azure_huge.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.0,4611686018427387904,44\n");
  EXPECT_EQ(error_of("azure", path), path + ":2: ContextTokens: token count 4611686018427387904 is beyond "
                                            "1099511627776 (no model holds such a request)");
}

TEST(JsonlTrace, TokenCountBeyondTwoToTheFortyFailsWithFileAndLine) {
  const std::string path = write_file("jsonl_huge.jsonl",
                                      "{\"arrival_s\": 0, \"input_tokens\": 7, \"output_tokens\": 4611686018427387904}\n");
  EXPECT_EQ(error_of("jsonl", path), path + ":1: output_tokens: token count 4611686018427387904 is beyond "
                                            "1099511627776 (no model holds such a request)");
}

TEST(JsonlTrace, PriorityBeyondInt64FailsInsteadOfWrapping) {
  const std::string path = write_file("jsonl_priority.jsonl",
                                      "{\"arrival_s\": 0, \"input_tokens\": 7, \"output_tokens\": 4, "
                                      "\"priority\": 18446744073709551615}\n");
  EXPECT_EQ(error_of("jsonl", path), path + ":1: priority: expected an integer (64-bit signed)");
}

TEST(AzureTrace, NonNumericLengthFailsWithFileAndLine) {
  const std::string path = write_file("azure_text.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.0,12,many\n");
  EXPECT_EQ(error_of("azure", path),
            path + ":2: GeneratedTokens: expected a non-negative integer token count, got 'many'");
}

TEST(AzureTrace, MissingColumnFailsOnTheHeaderLine) {
  const std::string path = write_file("azure_columns.csv", "TIMESTAMP,ContextTokens\n2023-11-16 18:15:46.0,12\n");
  EXPECT_EQ(error_of("azure", path),
            path + ":1: missing column 'GeneratedTokens' (header has: TIMESTAMP, ContextTokens)");
}

TEST(AzureTrace, EmptyTraceFailsAtOpen) {
  const std::string header_only = write_file("azure_empty.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  EXPECT_EQ(error_of("azure", header_only), header_only + ": trace has no requests");
  const std::string empty = write_file("azure_nothing.csv", "");
  EXPECT_EQ(error_of("azure", empty), empty + ": trace has no requests (empty file)");
}

// 2023-02-31 passes a 1..31 day check; taken as 2023-03-03 it would open a gap of days in the trace.
TEST(AzureTrace, ImpossibleDateFailsWithFileAndLine) {
  const std::string path = write_file("azure_date.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-02-28 23:59:59.0,374,44\n"
                                      "2023-02-31 00:00:00.0,396,109\n");
  EXPECT_EQ(error_of("azure", path),
            path + ":3: TIMESTAMP: no such date '2023-02-31' (in '2023-02-31 00:00:00.0')");
}

TEST(AzureTrace, NegativeTimeOfDayFailsWithFileAndLine) {
  const std::string path = write_file("azure_time.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-02-28 -1:59:59.0,374,44\n");
  EXPECT_EQ(error_of("azure", path),
            path + ":2: TIMESTAMP: expected 'YYYY-MM-DD HH:MM:SS.fffffff', got '2023-02-28 -1:59:59.0'");
}

// JSON parsers skip a byte order mark opening a file; the CSV readers do the same.
TEST(AzureTrace, Utf8ByteOrderMarkOpeningTheFileIsSkippedAsInJson) {
  const std::string path = write_file("azure_bom.csv",
                                      "\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.0,374,44\n");
  auto source = open("azure", path);
  RequestSpec spec;
  ASSERT_TRUE(source->next(spec));
  EXPECT_EQ(spec.input_tokens, 374);
}

TEST(MooncakeTrace, Utf8ByteOrderMarkOpeningTheFileIsSkipped) {
  const std::string path = write_file("mooncake_bom.jsonl",
                                      "\xEF\xBB\xBF{\"timestamp\": 0, \"input_length\": 7, \"output_length\": 2}\n");
  auto source = open("mooncake", path);
  RequestSpec spec;
  ASSERT_TRUE(source->next(spec));
  EXPECT_EQ(spec.input_tokens, 7);
}

// A record nested 100,000 arrays deep would overflow the stack when copied or printed.
TEST(MooncakeTrace, DeeplyNestedRecordFailsWithFileLineAndPointer) {
  const std::string path = write_file("mooncake_deep.jsonl",
                                      "{\"timestamp\": 0, \"input_length\": 7, \"output_length\": 2}\n"
                                      "{\"timestamp\": 1, \"input_length\": 7, \"output_length\": 2, \"hash_ids\": " +
                                          std::string(100000, '[') + std::string(100000, ']') + "}\n");
  std::string pointer = "/hash_ids";
  for (int i = 1; i < 64; ++i) pointer += "/0";
  EXPECT_EQ(error_of("mooncake", path), path + ":2: " + pointer + ": arrays and objects nested deeper than 64 levels");
}

TEST(JsonlTrace, DuplicateFieldFailsWithFileLineAndPointer) {
  const std::string path = write_file("jsonl_duplicate.jsonl",
                                      "{\"arrival_s\": 0, \"input_tokens\": 7, \"output_tokens\": 2, "
                                      "\"input_tokens\": 9}\n");
  EXPECT_EQ(error_of("jsonl", path),
            path + ":1: /input_tokens: duplicate key 'input_tokens' (each key may appear once in an object)");
}

TEST(JsonlTrace, NumberBeyondADoubleFailsWithFileLineAndPointer) {
  const std::string path = write_file("jsonl_overflow.jsonl",
                                      "{\"arrival_s\": 1e400, \"input_tokens\": 7, \"output_tokens\": 2}\n");
  EXPECT_EQ(error_of("jsonl", path),
            path + ":1: /arrival_s: number overflow parsing '1e400' (beyond the range of a double)");
}

// A file without newlines (binary data, say) must not be read into memory as one line.
TEST(VidurTrace, LineLongerThan64MiBFailsWithFileAndLine) {
  const std::string path = write_file("vidur_long.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n" +
                                                            std::string((std::size_t{64} << 20) + 10, '1'));
  EXPECT_EQ(error_of("vidur", path), path + ":2: line longer than 64 MiB (not a trace file?)");
  std::filesystem::remove(path);
}

TEST(MooncakeTrace, ReadsMillisecondsAndHashBlocks) {
  const std::string path = write_file("mooncake_ok.jsonl",
                                      "{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500, "
                                      "\"hash_ids\": [0, 1, 2]}\n"
                                      "{\"timestamp\": 1500, \"input_length\": 10, \"output_length\": 3, "
                                      "\"hash_ids\": [0]}\n");
  auto source = open("mooncake", path);
  RequestSpec spec;
  ASSERT_TRUE(source->next(spec));
  EXPECT_EQ(spec.prefix_hashes, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(spec.hash_block_tokens, 512);
  ASSERT_TRUE(source->next(spec));
  EXPECT_DOUBLE_EQ(spec.arrival_s, 1.5);
  EXPECT_FALSE(source->next(spec));
}

TEST(MooncakeTrace, MissingFieldFailsWithFileAndLine) {
  const std::string path = write_file("mooncake_missing.jsonl",
                                      "{\"timestamp\": 0, \"input_length\": 67, \"output_length\": 5}\n"
                                      "{\"timestamp\": 3, \"output_length\": 5}\n");
  EXPECT_EQ(error_of("mooncake", path), path + ":2: missing field 'input_length'");
}

TEST(JsonlTrace, ReadsPriorityAndPrefixHashes) {
  const std::string path = write_file("generic.jsonl",
                                      "{\"arrival_s\": 0.5, \"input_tokens\": 7, \"output_tokens\": 2, "
                                      "\"prefix_hashes\": [4, 5], \"priority\": 2}\n");
  auto source = open("jsonl", path);
  RequestSpec spec;
  ASSERT_TRUE(source->next(spec));
  EXPECT_EQ(spec.priority, 2);
  EXPECT_EQ(spec.hash_block_tokens, 16);
  EXPECT_EQ(spec.arrival_s, 0.0);
}

// A prefix group is one hash covering its tokens; string and integer names are distinct identities.
TEST(JsonlTrace, ReadsPrefixGroupsAndSessions) {
  const std::string path = write_file("groups.jsonl",
                                      "{\"arrival_s\": 0, \"input_tokens\": 1100, \"output_tokens\": 2, "
                                      "\"prefix_group\": \"system-prompt\", \"prefix_tokens\": 1024, \"session\": 7}\n"
                                      "{\"arrival_s\": 1, \"input_tokens\": 1100, \"output_tokens\": 2, "
                                      "\"prefix_group\": \"system-prompt\", \"prefix_tokens\": 1024, \"session\": \"7\"}\n");
  auto source = open("jsonl", path);
  RequestSpec a, b;
  ASSERT_TRUE(source->next(a));
  ASSERT_TRUE(source->next(b));
  ASSERT_EQ(a.prefix_hashes.size(), 1u);
  EXPECT_EQ(a.hash_block_tokens, 1024);
  EXPECT_EQ(a.prefix_hashes, b.prefix_hashes);
  EXPECT_NE(a.session, 0u);
  EXPECT_NE(a.session, b.session);
}

TEST(JsonlTrace, PrefixGroupLongerThanThePromptFailsWithFileAndLine) {
  const std::string path = write_file("group_long.jsonl",
                                      "{\"arrival_s\": 0, \"input_tokens\": 10, \"output_tokens\": 2, "
                                      "\"prefix_group\": 3, \"prefix_tokens\": 11}\n");
  EXPECT_EQ(error_of("jsonl", path), path + ":1: prefix_tokens: must be 1 to input_tokens (10), got 11");
  const std::string both = write_file("group_both.jsonl",
                                      "{\"arrival_s\": 0, \"input_tokens\": 10, \"output_tokens\": 2, "
                                      "\"prefix_hashes\": [1], \"prefix_group\": 3, \"prefix_tokens\": 5}\n");
  EXPECT_EQ(error_of("jsonl", both), both + ":1: prefix_group: give prefix_group or prefix_hashes, not both");
  const std::string alone = write_file("group_alone.jsonl",
                                       "{\"arrival_s\": 0, \"input_tokens\": 10, \"output_tokens\": 2, "
                                       "\"prefix_group\": 3}\n");
  EXPECT_EQ(error_of("jsonl", alone), alone + ":1: prefix_group needs prefix_tokens");
}

TEST(VidurTrace, NegativeArrivalFailsWithFileAndLine) {
  const std::string path = write_file("vidur.csv",
                                      "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,10,2\n-1,10,2\n");
  EXPECT_EQ(error_of("vidur", path), path + ":3: arrived_at: must be >= 0 s, got '-1'");
}

// Rate scaling and window clipping: keep [10 s, 20 s), shift to 0, double the rate.
TEST(TraceTransform, ClipsAWindowAndScalesTheRate) {
  const std::string path = write_file("vidur_window.csv",
                                      "arrived_at,num_prefill_tokens,num_decode_tokens\n"
                                      "0,1,1\n10,1,1\n14,1,1\n20,1,1\n");
  auto source = transform_trace(open("vidur", path), 10.0, 20.0, 2.0, 0);
  RequestSpec spec;
  ASSERT_TRUE(source->next(spec));
  EXPECT_DOUBLE_EQ(spec.arrival_s, 0.0);
  ASSERT_TRUE(source->next(spec));
  EXPECT_DOUBLE_EQ(spec.arrival_s, 2.0);
  EXPECT_FALSE(source->next(spec));
}

// A Poisson stream's mean gap approaches 1/rate; the same seed gives the same stream.
TEST(Generator, PoissonMeanGapMatchesRateAndSeedIsReproducible) {
  GeneratorParams g;
  g.rate_per_s = 4.0;
  g.num_requests = 200000;
  g.seed = 3;
  g.input = {LengthShape::kUniform, 0, 10, 20, 0, 0};
  g.output = {LengthShape::kFixed, 7, 1, 1, 0, 0};
  auto a = make_generator(g, "a");
  auto b = make_generator(g, "b");
  RequestSpec x, y;
  double last = 0.0;
  int64_t n = 0;
  while (a->next(x)) {
    ASSERT_TRUE(b->next(y));
    ASSERT_EQ(x.arrival_s, y.arrival_s);
    ASSERT_EQ(x.input_tokens, y.input_tokens);
    ASSERT_GE(x.input_tokens, 10);
    ASSERT_LE(x.input_tokens, 20);
    ASSERT_EQ(x.output_tokens, 7);
    last = x.arrival_s;
    ++n;
  }
  EXPECT_EQ(n, 200000);
  EXPECT_NEAR(last / static_cast<double>(n - 1), 0.25, 0.25 * 0.01);
}

// Gamma gaps with CV 3: the sample coefficient of variation is close to 3.
TEST(Generator, GammaGapsHaveTheRequestedBurstiness) {
  GeneratorParams g;
  g.rate_per_s = 10.0;
  g.cv = 3.0;
  g.num_requests = 400000;
  g.seed = 5;
  g.input = {LengthShape::kFixed, 5, 1, 1, 0, 0};
  g.output = {LengthShape::kFixed, 5, 1, 1, 0, 0};
  auto source = make_generator(g, "g");
  RequestSpec spec;
  double previous = 0.0, sum = 0.0, sum2 = 0.0;
  int64_t n = 0;
  bool first = true;
  while (source->next(spec)) {
    if (!first) {
      const double gap = spec.arrival_s - previous;
      sum += gap;
      sum2 += gap * gap;
      ++n;
    }
    first = false;
    previous = spec.arrival_s;
  }
  const double mean = sum / n;
  const double cv = std::sqrt(sum2 / n - mean * mean) / mean;
  EXPECT_NEAR(mean, 0.1, 0.002);
  EXPECT_NEAR(cv, 3.0, 0.1);
}

}  // namespace
}  // namespace servesim

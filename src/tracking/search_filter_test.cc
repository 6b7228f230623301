#include "tracking/search_filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/testing.h"

namespace mloop::tracking {
namespace {

using test::CatchError;
using test::ExpectError;

// Valid filters and their canonical form (FormatFilter), which shows how each was read.
struct ValidCase {
  std::string_view filter;
  std::string_view canonical;
};

const ValidCase kValid[] = {
    {"", ""},
    {"   \t\n", ""},
    {"metrics.accuracy > 0.92", "metrics.accuracy > 0.92"},
    {"metric.acc>=100", "metrics.acc >= 100"},
    {"metrics.XYZ = 3", "metrics.XYZ = 3"},
    {"metrics.loss < -1.5", "metrics.loss < -1.5"},
    {"metrics.loss <= -2", "metrics.loss <= -2"},
    {"metrics.lr = 1e-3", "metrics.lr = 0.001"},
    {"metrics.lr = 1E+3", "metrics.lr = 1000"},
    {"metrics.lr != .5", "metrics.lr != 0.5"},
    {"metrics.lr = 5.", "metrics.lr = 5"},
    {"metrics.lr = -2.5e-1", "metrics.lr = -0.25"},
    {"metrics.lr > -.5", "metrics.lr > -0.5"},
    {"metrics.a > 1 and\nmetrics.b < 2", "metrics.a > 1 AND metrics.b < 2"},
    {"metrics.a>=-1", "metrics.a >= -1"},
    {"params.m!='tf'", "params.m != 'tf'"},
    {"params.m != \"tf\"", "params.m != 'tf'"},
    {"params.\"m\"!=\"tf\"", "params.m != 'tf'"},
    {"param.max_depth = '6'", "params.max_depth = '6'"},
    {"parameter.a = 'x'", "params.a = 'x'"},
    {"parameters.a = 'x'", "params.a = 'x'"},
    {"params.model = \"LogisticRegression\" and params.lambda = \"0.001\" and "
     "metrics.error <= 0.05",
     "params.model = 'LogisticRegression' AND params.lambda = '0.001' AND metrics.error <= 0.05"},
    {"metric.\"legit name\" >= 0.243", "metrics.`legit name` >= 0.243"},
    {"metrics.`prediction accuracy` >= 0.945", "metrics.`prediction accuracy` >= 0.945"},
    {"metrics.'prediction accuracy' >= 0.945", "metrics.`prediction accuracy` >= 0.945"},
    {"metrics.\"X-Y-Z\" = 3", "metrics.`X-Y-Z` = 3"},
    {"metrics.\"2019-04-02 error rate\" < 1", "metrics.`2019-04-02 error rate` < 1"},
    {"params.`cat dog` = 'pets'", "params.`cat dog` = 'pets'"},
    {"tags.\"mlflow.user\" = 'ana'", "tags.`mlflow.user` = 'ana'"},
    {"tags.`mlflow.parentRunId` = 'abc'", "tags.`mlflow.parentRunId` = 'abc'"},
    {"tags.mlflow.runName = 'r1'", "tags.`mlflow.runName` = 'r1'"},
    {"tag.team = 'core'", "tags.team = 'core'"},
    {"tags.note = 'it''s'", "tags.note = 'it''s'"},
    {"tags.note = 'it\\'s'", "tags.note = 'it''s'"},
    {"tags.note = \"say \"\"hi\"\"\"", "tags.note = 'say \"hi\"'"},
    {"tags.note = \"say \\\"hi\\\"\"", "tags.note = 'say \"hi\"'"},
    {"tags.path = 'C:\\data'", "tags.path = 'C:\\\\data'"},
    {"tags.path = 'a\\\\b'", "tags.path = 'a\\\\b'"},
    {"tags.x = ''", "tags.x = ''"},
    {"tags.x = 'AND'", "tags.x = 'AND'"},
    {"params.model LIKE 'GPT%'", "params.model LIKE 'GPT%'"},
    {"params.model like 'GPT%'", "params.model LIKE 'GPT%'"},
    {"params.model ILIKE '%gpt%'", "params.model ILIKE '%gpt%'"},
    {"tags.t iLiKe 'x_'", "tags.t ILIKE 'x_'"},
    {"metrics.a > 1 AND metrics.b < 2 aNd metrics.c = 3",
     "metrics.a > 1 AND metrics.b < 2 AND metrics.c = 3"},
    {"attributes.status = 'FAILED'", "attributes.status = 'FAILED'"},
    {"attribute.status = 'FAILED'", "attributes.status = 'FAILED'"},
    {"attr.status = 'FAILED'", "attributes.status = 'FAILED'"},
    {"run.status = 'FAILED'", "attributes.status = 'FAILED'"},
    {"status = 'FAILED'", "attributes.status = 'FAILED'"},
    {"`status` = 'FAILED'", "attributes.status = 'FAILED'"},
    {"attributes.artifact_uri = 'models:/mymodel/1'",
     "attributes.artifact_uri = 'models:/mymodel/1'"},
    {"attributes.start_time >= 1664067852747", "attributes.start_time >= 1664067852747"},
    {"attributes.end_time < 1664067852747", "attributes.end_time < 1664067852747"},
    {"created > 0", "attributes.start_time > 0"},
    {"attributes.Created > 0", "attributes.start_time > 0"},
    {"attributes.`Run name` = 'r'", "attributes.run_name = 'r'"},
    {"attributes.\"run name\" LIKE 'r%'", "attributes.run_name LIKE 'r%'"},
    {"attributes.user_id = 'user1'", "attributes.user_id = 'user1'"},
    {"attributes.run_id = 'a1b2c3d4'", "attributes.run_id = 'a1b2c3d4'"},
    {"attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')",
     "attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')"},
    {"run_id not in (\"a\")", "attributes.run_id NOT IN ('a')"},
    {"run_id NOT   IN('a','b')", "attributes.run_id NOT IN ('a', 'b')"},
    {"datasets.name = 'adult'", "datasets.name = 'adult'"},
    {"dataset.digest IN ('s8ds293b', 'jks834s2')", "datasets.digest IN ('s8ds293b', 'jks834s2')"},
    {"datasets.context LIKE 'tr%'", "datasets.context LIKE 'tr%'"},
    {"metrics.auc IS NULL", "metrics.auc IS NULL"},
    {"tags.deprecated is not null", "tags.deprecated IS NOT NULL"},
    {"attributes.end_time IS NULL AND params.a = '1'",
     "attributes.end_time IS NULL AND params.a = '1'"},
    {"  metrics.a   >   1  ", "metrics.a > 1"},
};

TEST(ParseSearchFilterTest, ReadsValidFilters) {
  for (const ValidCase& c : kValid) {
    SCOPED_TRACE(c.filter);
    SearchFilter filter = ParseSearchFilter(c.filter);
    EXPECT_EQ(FormatFilter(filter), c.canonical);
    // The canonical form reads back to the same filter.
    EXPECT_EQ(FormatFilter(ParseSearchFilter(FormatFilter(filter))), c.canonical);
  }
}

TEST(ParseSearchFilterTest, BuildsTypedClauses) {
  SearchFilter filter = ParseSearchFilter(
      "metrics.auc >= 0.9 and params.max_depth = '6' and run_id IN ('a', 'b') and created < 5");
  ASSERT_EQ(filter.clauses.size(), 4u);
  EXPECT_EQ(filter.clauses[0].field, (FieldRef{FieldKind::kMetric, "auc"}));
  EXPECT_EQ(filter.clauses[0].comparator, Comparator::kGreaterEqual);
  EXPECT_EQ(filter.clauses[0].number, 0.9);
  EXPECT_EQ(filter.clauses[1].field, (FieldRef{FieldKind::kParam, "max_depth"}));
  EXPECT_EQ(filter.clauses[1].text, "6");
  EXPECT_EQ(filter.clauses[2].comparator, Comparator::kIn);
  EXPECT_EQ(filter.clauses[2].texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(filter.clauses[3].field, (FieldRef{FieldKind::kAttribute, "start_time"}));
  EXPECT_TRUE(filter.clauses[3].field.is_numeric());
  EXPECT_EQ(filter.clauses[3].number, 5);
}

// Invalid filters: the column of the fault and the message's key fact.
struct InvalidCase {
  std::string_view filter;
  int column;
  std::string_view fact;
};

const InvalidCase kInvalid[] = {
    {"metrics.auc >> 1", 13, "expected a comparator"},
    {"metrics.auc <> 1", 13, "expected a comparator"},
    {"metrics.auc == 1", 13, "expected a comparator"},
    {"metrics.auc 1", 13, "expected a comparator"},
    {"metrics.auc", 12, "expected a comparator"},
    {"metrics.a-b > 1", 10, "expected a comparator"},
    {"metrics.auc > ", 15, "expected a number for metrics.auc"},
    {"metrics.auc > '0.9'", 15, "expected a number for metrics.auc"},
    {"metrics.auc > 1abc", 15, "expected a number"},
    {"metrics.auc > 1.2.3", 15, "expected a number"},
    {"metrics.auc > -", 15, "expected a number"},
    {"metrics.auc > 1e999", 15, "number out of range"},
    {"metrics.auc LIKE '1'", 13, "LIKE does not apply to metrics.auc"},
    {"metrics.auc IN ('1')", 13, "IN does not apply to metrics.auc"},
    {"params.depth = 6", 16, "expected a text in single or double quotes for params.depth"},
    {"params.depth = 6", 16, "params are text"},
    {"params.depth > '6'", 14, "> does not apply to params.depth"},
    {"params.depth = `6`", 16, "expected a text in single or double quotes"},
    {"tags.team < 'a'", 11, "< does not apply to tags.team"},
    {"tags.team IN ('a')", 11, "IN does not apply to tags.team"},
    {"attributes.status IN ('A')", 19, "IN does not apply to attributes.status"},
    {"attributes.status > 'A'", 19, "> does not apply"},
    {"attributes.start_time LIKE '1%'", 23, "LIKE does not apply to attributes.start_time"},
    {"attributes.start_time > '1'", 25, "expected a number for attributes.start_time"},
    {"attributes.lifecycle_stage = 'active'", 12, "unknown attribute 'lifecycle_stage'"},
    {"foo = 'x'", 1, "unknown attribute 'foo'"},
    {"metricz.auc > 1", 1, "unknown prefix 'metricz'"},
    {"METRICS.auc > 1", 1, "unknown prefix 'METRICS'"},
    {"datasets.version = '1'", 10, "unknown dataset field 'version'"},
    {"datasets.name IS NULL", 15, "IS NULL does not apply to datasets.name"},
    {"metrics. > 1", 9, "expected a key after 'metrics.'"},
    {"metrics.`` > 1", 9, "expected a key, not an empty name"},
    {"> 1", 1, "expected a key"},
    {"(metrics.a > 1)", 1, "expected a key"},
    {"metrics.a > 1 AND", 18, "expected a key"},
    {"metrics.a > 1 AND AND metrics.b > 1", 19, "unknown attribute 'AND'"},
    {"metrics.a > 1 OR metrics.b > 1", 15, "OR is not supported"},
    {"metrics.a > 1 metrics.b > 1", 15, "expected AND or the end of the filter"},
    {"metrics.a > 1 && metrics.b > 1", 15, "expected AND or the end of the filter"},
    {"params.a = 'x", 12, "unterminated quoted text: expected a closing '"},
    {"params.\"a = 'x'", 8, "unterminated quoted text: expected a closing \""},
    {"params.a = 'x\\'", 12, "unterminated quoted text"},
    {"run_id IN 'a'", 11, "expected a list of quoted texts"},
    {"run_id IN ()", 12, "expected a text in single or double quotes"},
    {"run_id IN ('a' 'b')", 16, "expected ',' or ')'"},
    {"run_id IN ('a',", 16, "expected a text in single or double quotes"},
    {"run_id IN ('a', 1)", 17, "expected a text in single or double quotes"},
    {"run_id NOT LIKE 'a'", 12, "expected IN after NOT"},
    {"metrics.a IS 1", 14, "expected NULL or NOT NULL after IS"},
    {"metrics.a IS NOT 1", 18, "expected NULL after IS NOT"},
};

TEST(ParseSearchFilterTest, RejectsInvalidFiltersNamingTheColumn) {
  for (const InvalidCase& c : kInvalid) {
    SCOPED_TRACE(c.filter);
    std::string at = "at column " + std::to_string(c.column) + ": ";
    ExpectError(ErrorCode::kInvalidArgument, {"invalid filter \"", c.filter, at, c.fact},
                [&] { ParseSearchFilter(c.filter); });
  }
}

TEST(ParseSearchFilterTest, MessageReadsAsTheIssueAsks) {
  Error e = CatchError([] { ParseSearchFilter("metrics.auc >> 1"); });
  EXPECT_EQ(e.message(),
            "invalid filter \"metrics.auc >> 1\" at column 13: expected a comparator (=, !=, <, "
            "<=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL)");
}

// Two runs in the manner of MLflow's search guide.
RunValues RunA() {
  RunValues run;
  run.run_id = "aaa";
  run.run_name = "bright-owl";
  run.status = "FINISHED";
  run.user_id = "ana";
  run.artifact_uri = "file:///art/aaa";
  run.start_time = 1000;
  run.end_time = 2000;
  run.metrics = {{"auc", 0.93}, {"loss", 0.2}, {"error rate", 0.07}};
  run.params = {{"max_depth", "6"}, {"model", "GPT-3.5"}, {"lr", "0.001"}};
  run.tags = {{"mlflow.user", "ana"}, {"team", "Core"}};
  run.datasets = {{"adult", "d1", "train"}, {"adult-test", "d2", "test"}};
  return run;
}

RunValues RunB() {
  RunValues run;
  run.run_id = "bbb";
  run.status = "RUNNING";
  run.start_time = 3000;
  run.metrics = {{"auc", std::numeric_limits<double>::quiet_NaN()}};
  run.params = {{"max_depth", "10"}, {"model", "gpt-4"}};
  run.tags = {{"team", "core"}};
  run.datasets = {{"bike", "d3", ""}};
  return run;
}

struct MatchCase {
  std::string_view filter;
  bool a;  // Whether RunA matches.
  bool b;  // Whether RunB matches.
};

const MatchCase kMatches[] = {
    {"", true, true},
    // Metrics compare as numbers; a missing metric never matches, NaN matches only !=.
    {"metrics.auc > 0.9", true, false},
    {"metrics.auc <= 0.93", true, false},
    {"metrics.auc = 0.93", true, false},
    {"metrics.auc != 0.5", true, true},
    {"metrics.loss != 1", true, false},
    {"metrics.loss < 100", true, false},
    {"metrics.`error rate` < 0.1", true, false},
    {"metrics.loss IS NULL", false, true},
    {"metrics.auc IS NOT NULL", true, true},
    // Params are text: '10' < '6' as text, and only = != LIKE ILIKE apply.
    {"params.max_depth = '6'", true, false},
    {"params.max_depth != '6'", false, true},
    {"params.lr != 'x'", true, false},
    {"params.lr IS NULL", false, true},
    {"params.model LIKE 'GPT%'", true, false},
    {"params.model LIKE 'gpt%'", false, true},
    {"params.model ILIKE 'gpt%'", true, true},
    {"params.model LIKE 'GPT-_._'", true, false},
    {"params.model LIKE 'GPT-_'", false, false},
    {"params.model LIKE '%-%'", true, true},
    {"params.model LIKE '%'", true, true},
    {"params.model LIKE 'GPT.3%'", false, false},
    // Tags.
    {"tags.team = 'core'", false, true},
    {"tags.team ILIKE 'CORE'", true, true},
    {"tags.\"mlflow.user\" = 'ana'", true, false},
    {"tags.`mlflow.user` != 'bob'", true, false},
    // Attributes.
    {"attributes.status = 'FINISHED'", true, false},
    {"status != 'FINISHED'", false, true},
    {"attributes.run_name LIKE 'bright%'", true, false},
    {"attributes.run_name IS NULL", false, true},
    {"attributes.run_name != 'x'", true, false},
    {"run_id IN ('aaa', 'ccc')", true, false},
    {"run_id NOT IN ('aaa', 'ccc')", false, true},
    {"attributes.start_time >= 1000 and attributes.start_time < 3000", true, false},
    {"created > 2000", false, true},
    {"attributes.end_time > 0", true, false},
    {"attributes.end_time IS NULL", false, true},
    {"attributes.user_id = 'ana'", true, false},
    {"attributes.artifact_uri LIKE 'file://%'", true, false},
    // Datasets: any input dataset satisfies the clause; inputs without a context are skipped.
    {"datasets.name = 'adult-test'", true, false},
    {"datasets.name != 'adult'", true, true},
    {"datasets.digest IN ('d2', 'd3')", true, true},
    {"datasets.context = 'train'", true, false},
    {"datasets.context != 'train'", true, false},
    {"datasets.name NOT IN ('bike')", true, false},
    // AND chains.
    {"metrics.auc > 0.9 AND params.max_depth = '6' AND tags.team = 'Core'", true, false},
    {"metrics.auc > 0.9 AND params.max_depth = '10'", false, false},
};

TEST(MatchesTest, FollowsMlflowSemanticsPerKind) {
  RunValues a = RunA(), b = RunB();
  for (const MatchCase& c : kMatches) {
    SCOPED_TRACE(c.filter);
    SearchFilter filter = ParseSearchFilter(c.filter);
    EXPECT_EQ(Matches(filter, a), c.a);
    EXPECT_EQ(Matches(filter, b), c.b);
  }
}

struct LikeCase {
  std::string_view value;
  std::string_view pattern;
  bool like;
  bool ilike;
};

const LikeCase kLike[] = {
    {"", "", true, true},
    {"", "%", true, true},
    {"", "_", false, false},
    {"abc", "abc", true, true},
    {"abc", "ABC", false, true},
    {"abc", "a%", true, true},
    {"abc", "%c", true, true},
    {"abc", "%b%", true, true},
    {"abc", "a_c", true, true},
    {"abc", "a__c", false, false},
    {"abc", "%%%", true, true},
    {"aXbXc", "%X%X%", true, true},
    {"aXbXc", "%x%x%", false, true},
    {"mississippi", "%iss%ppi", true, true},
    {"mississippi", "m%ss%ss%ss%", false, false},
    {"a.c", "a.c", true, true},
    {"abc", "a.c", false, false},  // No regular expressions: '.' is itself.
    {"a+b", "a+b", true, true},
    {"été", "_t_", true, true},  // _ is one UTF-8 character, not one byte.
    {"été", "__t__", false, false},
};

TEST(MatchesTest, LikeAndIlikeFollowSql) {
  for (const LikeCase& c : kLike) {
    SCOPED_TRACE(std::string(c.value) + " LIKE " + std::string(c.pattern));
    RunValues run;
    run.tags = {{"t", std::string(c.value)}};
    SearchFilter like = ParseSearchFilter("tags.t LIKE '" + std::string(c.pattern) + "'");
    SearchFilter ilike = ParseSearchFilter("tags.t ILIKE '" + std::string(c.pattern) + "'");
    EXPECT_EQ(Matches(like, run), c.like);
    EXPECT_EQ(Matches(ilike, run), c.ilike);
  }
}

TEST(ParseOrderByTest, ReadsKeysAndDirections) {
  std::vector<OrderBy> order =
      ParseOrderBy({"metrics.auc DESC", "attributes.start_time asc", "params.`max depth`",
                    "tags.\"mlflow.user\" Desc", "start_time", "created DESC", "metric.loss"});
  ASSERT_EQ(order.size(), 7u);
  EXPECT_EQ(order[0].field, (FieldRef{FieldKind::kMetric, "auc"}));
  EXPECT_FALSE(order[0].ascending);
  EXPECT_EQ(order[1].field, (FieldRef{FieldKind::kAttribute, "start_time"}));
  EXPECT_TRUE(order[1].ascending);
  EXPECT_EQ(order[2].field, (FieldRef{FieldKind::kParam, "max depth"}));
  EXPECT_TRUE(order[2].ascending);
  EXPECT_EQ(order[3].field, (FieldRef{FieldKind::kTag, "mlflow.user"}));
  EXPECT_FALSE(order[3].ascending);
  EXPECT_EQ(order[4].field, (FieldRef{FieldKind::kAttribute, "start_time"}));
  EXPECT_EQ(order[5].field, (FieldRef{FieldKind::kAttribute, "start_time"}));
  EXPECT_FALSE(order[5].ascending);
  EXPECT_EQ(order[6].field, (FieldRef{FieldKind::kMetric, "loss"}));
  EXPECT_TRUE(ParseOrderBy({}).empty());
}

TEST(ParseOrderByTest, RejectsBadKeysNamingTheColumn) {
  const InvalidCase cases[] = {
      {"metrics.auc UP", 13, "expected ASC, DESC or the end of the key"},
      {"metrics.auc DESC ASC", 18, "expected the end of the key after ASC or DESC"},
      {"", 1, "expected a key"},
      {"metrics.auc, metrics.loss", 12, "expected ASC, DESC or the end of the key"},
      {"datasets.name", 10, "cannot be ordered by a dataset field"},
      {"attributes.lifecycle_stage", 12, "unknown attribute 'lifecycle_stage'"},
      {"metricz.auc", 1, "unknown prefix 'metricz'"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.filter);
    std::string at = "at column " + std::to_string(c.column) + ": ";
    ExpectError(ErrorCode::kInvalidArgument, {"invalid order-by \"", at, c.fact}, [&] {
      ParseOrderBy({"metrics.auc", std::string(c.filter)});
    });
  }
}

// The run ids of `runs` sorted by `keys`, as `mloop runs list --order-by` lists them.
std::vector<std::string> Sorted(std::vector<RunValues> runs, const std::vector<std::string>& keys) {
  std::vector<OrderBy> order = ParseOrderBy(keys);
  std::sort(runs.begin(), runs.end(),
            [&](const RunValues& a, const RunValues& b) { return CompareRuns(order, a, b) < 0; });
  std::vector<std::string> ids;
  for (const RunValues& run : runs) ids.push_back(run.run_id);
  return ids;
}

RunValues MakeRun(std::string id, double start, std::optional<double> auc,
                  std::optional<std::string> depth = std::nullopt) {
  RunValues run;
  run.run_id = std::move(id);
  run.status = "FINISHED";
  run.start_time = start;
  if (auc) run.metrics = {{"auc", *auc}};
  if (depth) run.params = {{"depth", *depth}};
  return run;
}

TEST(CompareRunsTest, DefaultIsStartTimeDescendingThenRunId) {
  std::vector<RunValues> runs = {MakeRun("b", 10, 0.5), MakeRun("a", 10, 0.5),
                                 MakeRun("c", 30, 0.5), MakeRun("d", 20, 0.5)};
  EXPECT_EQ(Sorted(runs, {}), (std::vector<std::string>{"c", "d", "a", "b"}));
}

TEST(CompareRunsTest, MissingValuesSortLastInBothDirectionsAndNanJustBefore) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<RunValues> runs = {MakeRun("missing", 50, std::nullopt), MakeRun("low", 10, 0.1),
                                 MakeRun("nan", 40, nan), MakeRun("high", 20, 0.9),
                                 MakeRun("mid", 30, 0.5)};
  EXPECT_EQ(Sorted(runs, {"metrics.auc"}),
            (std::vector<std::string>{"low", "mid", "high", "nan", "missing"}));
  EXPECT_EQ(Sorted(runs, {"metrics.auc DESC"}),
            (std::vector<std::string>{"high", "mid", "low", "nan", "missing"}));
}

TEST(CompareRunsTest, TiesFallBackToStartTimeThenRunId) {
  std::vector<RunValues> runs = {MakeRun("x", 10, 0.5),          MakeRun("y", 30, 0.5),
                                 MakeRun("w", 10, 0.5),          MakeRun("z", 20, 0.9),
                                 MakeRun("m1", 5, std::nullopt), MakeRun("m2", 6, std::nullopt)};
  EXPECT_EQ(Sorted(runs, {"metrics.auc DESC"}),
            (std::vector<std::string>{"z", "y", "w", "x", "m2", "m1"}));
  EXPECT_EQ(Sorted(runs, {"metrics.auc ASC"}),
            (std::vector<std::string>{"y", "w", "x", "z", "m2", "m1"}));
}

TEST(CompareRunsTest, ParamsSortAsTextAndLaterKeysBreakTies) {
  std::vector<RunValues> runs = {MakeRun("a", 1, 0.1, "6"), MakeRun("b", 2, 0.2, "10"),
                                 MakeRun("c", 3, 0.3, "6"), MakeRun("d", 4, 0.4)};
  // '10' < '6' as text, as MLflow orders params.
  EXPECT_EQ(Sorted(runs, {"params.depth"}), (std::vector<std::string>{"b", "c", "a", "d"}));
  EXPECT_EQ(Sorted(runs, {"params.depth DESC", "metrics.auc ASC"}),
            (std::vector<std::string>{"a", "c", "b", "d"}));
}

TEST(CompareRunsTest, OrdersByAttributes) {
  RunValues a = MakeRun("a", 1, 0.1), b = MakeRun("b", 2, 0.2), c = MakeRun("c", 3, 0.3);
  a.end_time = 50;
  c.end_time = 40;  // b is still running: no end_time, so it sorts last either way.
  a.status = "FAILED";
  EXPECT_EQ(Sorted({a, b, c}, {"attributes.end_time"}), (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(Sorted({a, b, c}, {"end_time DESC"}), (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(Sorted({a, b, c}, {"status", "run_id DESC"}),
            (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(CompareRuns({}, a, a), 0);
}

}  // namespace
}  // namespace mloop::tracking

#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/testing.h"
#include "eval/fairness.h"
#include "eval/slices.h"
#include "table/column.h"

namespace mloop::eval {
namespace {

using test::ExpectError;

// scikit-learn's average_precision_score example: y = [0, 0, 1, 1], p = [0.1, 0.4, 0.35, 0.8].
const std::vector<float> kLabels = {0, 0, 1, 1};
const std::vector<float> kScores = {0.1f, 0.4f, 0.35f, 0.8f};

TEST(BinaryMetricsTest, ConfusionAndThresholdMetrics) {
  // At 0.5 only 0.8 is predicted 1: tp 1, fn 1 (0.35), tn 2.
  ThresholdMetrics m = MetricsAt(kLabels, kScores);
  EXPECT_EQ(m.confusion.tn, 2);
  EXPECT_EQ(m.confusion.fp, 0);
  EXPECT_EQ(m.confusion.fn, 1);
  EXPECT_EQ(m.confusion.tp, 1);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(m.balanced_accuracy, (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 2.0 / 3);
  EXPECT_FALSE(m.precision_undefined || m.recall_undefined || m.f1_undefined);
  // p >= threshold is predicted 1: at exactly 0.8f the row at 0.8f is positive.
  EXPECT_EQ(MetricsAt(kLabels, kScores, {}, 0.8f).confusion.tp, 1);
}

TEST(BinaryMetricsTest, ZeroDivisionIsZeroWithFlag) {
  // Nothing predicted 1: precision 0/0, f1 0 but defined (fn > 0).
  ThresholdMetrics m = MetricsAt(kLabels, kScores, {}, 0.9);
  EXPECT_EQ(m.precision, 0);
  EXPECT_TRUE(m.precision_undefined);
  EXPECT_FALSE(m.recall_undefined);
  EXPECT_EQ(m.f1, 0);
  EXPECT_FALSE(m.f1_undefined);
  // No positive row and none predicted: all three undefined; balanced accuracy is the
  // recall of class 0 alone.
  std::vector<float> negatives = {0, 0}, p = {0.1f, 0.2f};
  ThresholdMetrics n = MetricsAt(negatives, p);
  EXPECT_TRUE(n.precision_undefined && n.recall_undefined && n.f1_undefined);
  EXPECT_EQ(n.balanced_accuracy, 1.0);
  Json report = BinaryReport(negatives, p);
  EXPECT_TRUE(report["metrics"]["roc_auc"].is_null());
  EXPECT_TRUE(report["metrics"]["average_precision"].is_null());
  EXPECT_EQ(report["warnings"].size(), 5u) << report.dump();
}

TEST(BinaryMetricsTest, RankingMetrics) {
  // Positives 0.8 and 0.35 against negatives 0.4 and 0.1: 3 of 4 pairs ordered.
  EXPECT_DOUBLE_EQ(RocAuc(kLabels, kScores), 0.75);
  // Step-wise: recall 1/2 at precision 1 (0.8), then recall 1 at precision 2/3 (0.35).
  EXPECT_NEAR(AveragePrecision(kLabels, kScores), 0.5 * 1 + 0.5 * 2.0 / 3, 1e-15);
  // Weight 3 on the positive at 0.35 and 0 on the negative at 0.4: every positive outranks
  // the remaining negative.
  std::vector<float> w = {1, 0, 3, 1};
  EXPECT_DOUBLE_EQ(RocAuc(kLabels, kScores, w), 1.0);
  EXPECT_DOUBLE_EQ(AveragePrecision(kLabels, kScores, w), 1.0);
  ExpectError(ErrorCode::kInvalidArgument, {"without positive rows"}, [] {
    std::vector<float> y = {0, 0}, p = {0.5f, 0.6f};
    AveragePrecision(y, p);
  });
}

TEST(BinaryMetricsTest, ProbabilityMetrics) {
  double log_loss = -(std::log(1 - 0.1) + std::log(1 - 0.4) + std::log(0.35) + std::log(0.8)) / 4;
  EXPECT_NEAR(LogLoss(kLabels, kScores), log_loss, 1e-7);
  EXPECT_NEAR(Brier(kLabels, kScores), (0.01 + 0.16 + 0.4225 + 0.04) / 4, 1e-7);
  // Clipped at 1e-15: a confident mistake costs -log(1e-15).
  std::vector<float> y = {1}, p = {0};
  EXPECT_NEAR(LogLoss(y, p), -std::log(1e-15), 1e-12);
}

TEST(BinaryMetricsTest, CalibrationCurveUsesUniformBins) {
  // Bins of width 0.1, a value on an inner edge falling in the lower bin: 0.25 -> bin 2,
  // 0.5 -> bin 4, 0.75 -> bin 7, 1.0 -> bin 9.
  std::vector<float> y = {0, 0, 1, 1, 1, 0}, p = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 0.5f};
  Calibration c = CalibrationCurve(y, p);
  ASSERT_EQ(c.bins.size(), 10u);
  EXPECT_EQ(c.bins[0].count, 1u);
  EXPECT_EQ(c.bins[2].count, 1u);
  EXPECT_EQ(c.bins[4].count, 2u);
  EXPECT_EQ(c.bins[7].count, 1u);
  EXPECT_EQ(c.bins[9].count, 1u);
  EXPECT_EQ(c.bins[1].count, 0u);
  EXPECT_TRUE(std::isnan(c.bins[1].mean_predicted));
  EXPECT_DOUBLE_EQ(c.bins[4].mean_predicted, 0.5);
  EXPECT_DOUBLE_EQ(c.bins[4].fraction_positive, 0.5);
  EXPECT_DOUBLE_EQ(c.bins[7].lower, 0.7000000000000001);
  // |0 - 0.25| and |1 - 0.75|, each one row of six.
  EXPECT_DOUBLE_EQ(c.expected_calibration_error, 0.5 / 6);
  ExpectError(ErrorCode::kInvalidArgument, {"row 0", "outside [0, 1]"}, [] {
    std::vector<float> y1 = {1}, p1 = {1.5f};
    CalibrationCurve(y1, p1);
  });
}

TEST(BinaryMetricsTest, ChoosesTheBestThreshold) {
  // Thresholds 0.8, 0.4, 0.35, 0.1: f1 is 2/3, 1/2, 4/5, 2/3; 0.35 wins.
  ThresholdMetrics f1 = ChooseThreshold(kLabels, kScores, ThresholdObjective::kF1);
  EXPECT_FLOAT_EQ(f1.threshold, 0.35f);
  EXPECT_DOUBLE_EQ(f1.f1, 0.8);
  // Accuracy is 3/4 at 0.8 and at 0.35: the smaller threshold wins the tie.
  ThresholdMetrics acc = ChooseThreshold(kLabels, kScores, ThresholdObjective::kAccuracy);
  EXPECT_FLOAT_EQ(acc.threshold, 0.35f);
  EXPECT_DOUBLE_EQ(acc.accuracy, 0.75);
  // Precision is 1 only at 0.8.
  EXPECT_FLOAT_EQ(ChooseThreshold(kLabels, kScores, ThresholdObjective::kPrecision).threshold,
                  0.8f);
  EXPECT_EQ(ParseThresholdObjective("balanced_accuracy"), ThresholdObjective::kBalancedAccuracy);
  ExpectError(ErrorCode::kInvalidArgument, {"roc_auc", "f1"},
              [] { ParseThresholdObjective("roc_auc"); });
  BinaryReportOptions options;
  options.choose_threshold = ThresholdObjective::kF1;
  Json report = BinaryReport(kLabels, kScores, {}, options);
  EXPECT_FLOAT_EQ(report["threshold"].get<float>(), 0.35f);
  EXPECT_EQ(report["threshold_objective"], "f1");
  EXPECT_DOUBLE_EQ(report["metrics"]["f1"].get<double>(), 0.8);
}

TEST(BinaryMetricsTest, BinaryReportNamesMetricsAsScikitLearn) {
  Json report = BinaryReport(kLabels, kScores);
  std::vector<std::string> names;
  for (const auto& item : report["metrics"].items()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"accuracy", "balanced_accuracy", "precision", "recall",
                                             "f1", "roc_auc", "average_precision", "log_loss",
                                             "brier", "expected_calibration_error"}));
  EXPECT_EQ(report["confusion_matrix"]["tp"], 1.0);
  EXPECT_EQ(report["calibration"].size(), 10u);
  EXPECT_EQ(report["rows"], 4);
}

TEST(BinaryMetricsTest, RejectsBadInput) {
  ExpectError(ErrorCode::kInvalidArgument, {"2 labels but 1 predictions"}, [] {
    std::vector<float> y = {0, 1}, p = {0.5f};
    MetricsAt(y, p);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"row 1", "not a class in 0..1"}, [] {
    std::vector<float> y = {0, 2}, p = {0.5f, 0.5f};
    Brier(y, p);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"weight of row 0"}, [] {
    std::vector<float> y = {0}, p = {0.5f}, w = {-1};
    MetricsAt(y, p, w);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"no rows"}, [] { MetricsAt({}, {}); });
}

// Labels 0,1,2,2,1,0 predicted 0,2,2,2,1,1.
const std::vector<float> kClassLabels = {0, 1, 2, 2, 1, 0};
const std::vector<float> kClassProbs = {0.7f, 0.2f, 0.1f,  //
                                        0.1f, 0.3f, 0.6f,  //
                                        0.2f, 0.2f, 0.6f,  //
                                        0.1f, 0.1f, 0.8f,  //
                                        0.2f, 0.5f, 0.3f,  //
                                        0.3f, 0.4f, 0.3f};

TEST(MulticlassMetricsTest, AveragesAsScikitLearn) {
  MulticlassMetrics m = ComputeMulticlass(kClassLabels, kClassProbs, 3);
  EXPECT_EQ(m.confusion, (std::vector<std::vector<double>>{{1, 1, 0}, {0, 1, 1}, {0, 0, 2}}));
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6);
  // Class 0: P 1, R 1/2; class 1: P 1/2, R 1/2; class 2: P 2/3, R 1.
  EXPECT_DOUBLE_EQ(m.per_class[0].f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.per_class[1].f1, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[2].f1, 0.8);
  EXPECT_DOUBLE_EQ(m.macro.precision, (1 + 0.5 + 2.0 / 3) / 3);
  EXPECT_DOUBLE_EQ(m.macro.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.macro.f1, (2.0 / 3 + 0.5 + 0.8) / 3);
  EXPECT_DOUBLE_EQ(m.micro.precision, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.micro.f1, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.weighted.recall, 2.0 / 3);  // Equal supports: the macro value.
  // Class 0 scores: positives 0.7, 0.3 vs negatives 0.1, 0.2, 0.1, 0.2: all 8 pairs ordered.
  // Class 1: positives 0.3, 0.5 vs 0.2, 0.2, 0.1, 0.4: 7 of 8. Class 2: positives 0.6, 0.8 vs
  // 0.1, 0.6, 0.3, 0.3: 7.5 of 8.
  EXPECT_DOUBLE_EQ(m.roc_auc, (1 + 7.0 / 8 + 7.5 / 8) / 3);
}

TEST(MulticlassMetricsTest, LogLossRenormalizesRows) {
  // Each row is clipped to [1e-15, 1 - 1e-15], then divided by its sum.
  std::vector<float> y = {0, 1}, p = {1.0f, 1.0f, 0.25f, 0.5f};
  EXPECT_NEAR(MultiLogLoss(y, p, 2), -(std::log(0.5) + std::log(2.0 / 3)) / 2, 1e-12);
}

TEST(MulticlassMetricsTest, MacroLeavesOutUnseenClasses) {
  // Class 2 is neither a label nor a prediction: macro averages over classes 0 and 1.
  std::vector<float> y = {0, 1}, p = {0.9f, 0.05f, 0.05f, 0.1f, 0.8f, 0.1f};
  MulticlassMetrics m = ComputeMulticlass(y, p, 3);
  EXPECT_FALSE(m.per_class[2].present);
  EXPECT_DOUBLE_EQ(m.macro.f1, 1.0);
  EXPECT_FALSE(m.roc_auc_defined);
  Json report = MulticlassReport(y, p, 3, {}, std::vector<std::string>{"a", "b", "c"});
  EXPECT_TRUE(report["metrics"]["roc_auc"].is_null());
  EXPECT_EQ(report["per_class"][2]["name"], "c");
  ExpectError(ErrorCode::kInvalidArgument, {"no row of class 2"}, [&] { MultiRocAucOvr(y, p, 3); });
}

TEST(RegressionMetricsTest, MatchesScikitLearnExamples) {
  // The examples of scikit-learn's regression metric docstrings.
  std::vector<float> y = {3, -0.5f, 2, 7}, f = {2.5f, 0.0f, 2, 8};
  RegressionMetrics m = ComputeRegression(y, f);
  EXPECT_DOUBLE_EQ(m.mse, 0.375);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(0.375));
  EXPECT_DOUBLE_EQ(m.mae, 0.5);
  EXPECT_DOUBLE_EQ(m.r2, 0.9486081370449679);
  EXPECT_DOUBLE_EQ(m.explained_variance, 0.9571734475374732);
  EXPECT_DOUBLE_EQ(m.max_error, 1.0);
  EXPECT_DOUBLE_EQ(m.median_absolute_error, 0.5);  // Errors 0, .5, .5, 1.
  EXPECT_DOUBLE_EQ(m.mape, (0.5 / 3 + 0.5 / 0.5 + 0 + 1.0 / 7) / 4);
  // Weighted median: errors 0, .5, .5, 1 weighing 1, 1, 1, 5 reach half of 8 only at 1.
  std::vector<float> w = {1, 1, 1, 5};
  EXPECT_DOUBLE_EQ(ComputeRegression(y, f, w).median_absolute_error, 1.0);
  // A constant target: r2 is 1 for a perfect fit, else 0 (force_finite).
  std::vector<float> c = {2, 2}, perfect = {2, 2}, off = {2, 3};
  EXPECT_EQ(ComputeRegression(c, perfect).r2, 1.0);
  EXPECT_EQ(ComputeRegression(c, off).r2, 0.0);
  // A zero label divides by the float64 epsilon in mape.
  std::vector<float> zero = {0}, one = {1};
  EXPECT_DOUBLE_EQ(ComputeRegression(zero, one).mape, 1 / 2.220446049250313e-16);
  Json report = RegressionReport(y, f);
  EXPECT_EQ(report["metrics"].size(), 8u);
  EXPECT_DOUBLE_EQ(report["metrics"]["r2"].get<double>(), 0.9486081370449679);
}

// ---------------------------------------------------------------------------------------------
// The scikit-learn comparison (tests/reference/eval_sklearn.py): with MLOOP_EVAL_REFERENCE_DIR
// set, reads the labels, scores and weights the script wrote there, computes every report,
// and writes them to results.json for the script to compare. Without it, skipped.

struct CsvColumns {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> cells;  // [column][row]
  const std::vector<std::string>& Text(const std::string& name) const {
    for (size_t c = 0; c < names.size(); ++c) {
      if (names[c] == name) return cells[c];
    }
    ADD_FAILURE() << "no column " << name;
    static const std::vector<std::string> none;
    return none;
  }
  std::vector<float> Floats(const std::string& name) const {
    std::vector<float> out;
    for (const std::string& s : Text(name)) out.push_back(std::strtof(s.c_str(), nullptr));
    return out;
  }
};

CsvColumns ReadCsv(const std::filesystem::path& path) {
  CsvColumns out;
  std::ifstream in(path);
  std::string line;
  EXPECT_TRUE(std::getline(in, line)) << path;
  std::stringstream header(line);
  for (std::string cell; std::getline(header, cell, ',');) out.names.push_back(cell);
  out.cells.resize(out.names.size());
  while (std::getline(in, line)) {
    std::stringstream row(line);
    size_t c = 0;
    for (std::string cell; std::getline(row, cell, ',') && c < out.names.size(); ++c) {
      out.cells[c].push_back(cell);
    }
  }
  return out;
}

// Not a test of its own: the writing half of tests/reference/eval_sklearn.py (ctest
// eval_sklearn_reference), which writes the inputs, sets MLOOP_EVAL_REFERENCE_DIR and runs this
// with --gtest_also_run_disabled_tests, then compares the reports with scikit-learn.
TEST(ReferenceTest, DISABLED_WritesReportsForScikitLearn) {
  const char* dir_env = std::getenv("MLOOP_EVAL_REFERENCE_DIR");
  ASSERT_NE(dir_env, nullptr) << "run by tests/reference/eval_sklearn.py";
  const std::filesystem::path dir = dir_env;
  Json out;

  CsvColumns binary = ReadCsv(dir / "binary.csv");
  std::vector<float> y = binary.Floats("label"), p = binary.Floats("p"), w = binary.Floats("w");
  out["binary"] = BinaryReport(y, p);
  out["binary_weighted"] = BinaryReport(y, p, w);
  BinaryReportOptions at_03;
  at_03.threshold = 0.3;
  out["binary_threshold_0.3"] = BinaryReport(y, p, {}, at_03);
  for (std::string_view name : {"f1", "balanced_accuracy", "accuracy", "precision", "recall"}) {
    BinaryReportOptions chosen;
    chosen.choose_threshold = ParseThresholdObjective(name);
    out["binary_chosen"][std::string(name)] = BinaryReport(y, p, {}, chosen);
    out["binary_chosen_weighted"][std::string(name)] = BinaryReport(y, p, w, chosen);
  }
  for (std::string column : {"sex", "race"}) {
    Groups groups = GroupsByValue(table::Column::FromStringValues(column, binary.Text(column)));
    out["fairness"][column] = FairnessToJson(ComputeFairness(groups, y, p));
    out["fairness_weighted"][column] = FairnessToJson(ComputeFairness(groups, y, p, w));
    FairnessOptions several;  // The last group, and the first of more than 2, at 0.3.
    several.threshold = 0.3;
    several.privileged = {groups.names.size() - 1};
    if (groups.names.size() > 2) several.privileged.insert(several.privileged.begin(), 0);
    out["fairness_privileged"][column] = FairnessToJson(ComputeFairness(groups, y, p, {}, several));
    out["slices"][column] = SliceReports(groups, 2, y, p, w);
  }

  CsvColumns multi = ReadCsv(dir / "multiclass.csv");
  std::vector<float> my = multi.Floats("label"), mw = multi.Floats("w"), mp;
  const size_t classes = multi.names.size() - 2;  // label, w, p0..pK-1.
  for (size_t r = 0; r < my.size(); ++r) {
    for (size_t c = 0; c < classes; ++c) {
      mp.push_back(std::strtof(multi.cells[2 + c][r].c_str(), nullptr));
    }
  }
  out["multiclass"] = MulticlassReport(my, mp, classes);
  out["multiclass_weighted"] = MulticlassReport(my, mp, classes, mw);

  CsvColumns regression = ReadCsv(dir / "regression.csv");
  std::vector<float> ry = regression.Floats("label"), rf = regression.Floats("prediction"),
                     rw = regression.Floats("w");
  out["regression"] = RegressionReport(ry, rf);
  out["regression_weighted"] = RegressionReport(ry, rf, rw);
  table::Column temp("temp", table::DataType::kFloat64);
  for (const std::string& cell : regression.Text("temp")) temp.AppendDouble(std::stod(cell));
  out["regression_slices"] = SliceReports(GroupsByQuantiles(temp, 4), 0, ry, rf, rw);

  std::ofstream file(dir / "results.json");
  file << out.dump(1);
  ASSERT_TRUE(file.good());
}

}  // namespace
}  // namespace mloop::eval

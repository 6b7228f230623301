// The C++ half of tests/reference/linear_sklearn.py: fits every linear estimator on real data
// (UCI Adult's numeric columns, standardized; the Bike Sharing hourly data) and writes the
// inputs and what was fitted, for the script to compare with scikit-learn's fits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/testing.h"
#include "table/csv_reader.h"
#include "train/linear_trainer.h"

namespace mloop::train {
namespace {

// A dataset as the estimators take it, with its labels by name.
struct Dataset {
  std::vector<std::string> names;
  std::vector<float> x;
  size_t rows = 0;
  std::map<std::string, std::vector<float>> labels;
  std::map<std::string, size_t> classes;  // per label: 0 for a number
  std::vector<float> weights;             // a fixed, uneven pattern
};

std::vector<float> Weights(size_t rows) {
  std::vector<float> w(rows);
  for (size_t r = 0; r < rows; ++r) w[r] = 0.5f + 0.5f * static_cast<float>((r * 7) % 5);
  return w;
}

// The columns of `t` named `names` as rows of float32, each standardized first (population
// standard deviation, in double) when `standardize`.
void AddColumns(const table::Table& t, const std::vector<std::string>& names, bool standardize,
                Dataset& d) {
  d.names = names;
  d.rows = t.num_rows();
  d.x.assign(d.rows * names.size(), 0);
  for (size_t f = 0; f < names.size(); ++f) {
    const table::Column* c = t.FindColumn(names[f]);
    EXPECT_NE(c, nullptr) << names[f];
    if (c == nullptr) continue;
    std::vector<double> v(d.rows);
    for (size_t r = 0; r < d.rows; ++r) v[r] = c->NumberAt(r);
    if (standardize) {
      double mean = 0, var = 0;
      for (double a : v) mean += a;
      mean /= static_cast<double>(d.rows);
      for (double a : v) var += (a - mean) * (a - mean);
      const double sd = std::sqrt(var / static_cast<double>(d.rows));
      for (double& a : v) a = (a - mean) / sd;
    }
    for (size_t r = 0; r < d.rows; ++r) d.x[r * names.size() + f] = static_cast<float>(v[r]);
  }
  d.weights = Weights(d.rows);
}

// The class index of each row's value of category column `name`, classes in sorted order.
void AddClassLabel(const table::Table& t, const std::string& name, Dataset& d) {
  const table::Column* c = t.FindColumn(name);
  ASSERT_NE(c, nullptr) << name;
  std::vector<std::string> values;
  for (size_t r = 0; r < t.num_rows(); ++r) values.push_back(c->ValueToString(r));
  std::vector<std::string> classes = values;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  std::vector<float>& y = d.labels[name];
  for (const std::string& v : values) {
    y.push_back(
        static_cast<float>(std::lower_bound(classes.begin(), classes.end(), v) - classes.begin()));
  }
  d.classes[name] = classes.size();
}

Dataset ReadAdult() {
  Json contract = ReadYamlFile(std::string(MLOOP_DATA_TESTDATA) + "/adult_contract.yaml");
  table::CsvOptions options;
  options.header = false;
  options.names = contract["format"]["names"].get<std::vector<std::string>>();
  options.null_values = std::vector<std::string>{"?"};
  options.skip_initial_space = true;
  auto result = table::ReadCsv(std::string(MLOOP_DATASETS_DIR) + "/adult/adult.data", options);
  EXPECT_TRUE(result.malformed.empty());
  Dataset d;
  AddColumns(result.table,
             {"age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"},
             true, d);
  AddClassLabel(result.table, "income", d);  // "<=50K" = 0, ">50K" = 1
  AddClassLabel(result.table, "race", d);    // 5 classes
  return d;
}

Dataset ReadBike() {
  auto result = table::ReadCsv(std::string(MLOOP_DATASETS_DIR) + "/bike_sharing/hour.csv");
  EXPECT_TRUE(result.malformed.empty());
  Dataset d;
  AddColumns(result.table,
             {"season", "yr", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit",
              "temp", "atemp", "hum", "windspeed"},
             false, d);
  const table::Column* cnt = result.table.FindColumn("cnt");
  EXPECT_NE(cnt, nullptr);
  if (cnt != nullptr) {
    for (size_t r = 0; r < d.rows; ++r)
      d.labels["cnt"].push_back(static_cast<float>(cnt->NumberAt(r)));
  }
  d.classes["cnt"] = 0;
  return d;
}

void WriteDataset(const Dataset& d, const std::filesystem::path& path) {
  std::ofstream out(path);
  for (const std::string& name : d.names) out << name << ",";
  for (const auto& [name, y] : d.labels) out << "label_" << name << ",";
  out << "weight\n";
  char buf[40];
  for (size_t r = 0; r < d.rows; ++r) {
    // %.9g gives back the exact float32.
    for (size_t f = 0; f < d.names.size(); ++f) {
      std::snprintf(buf, sizeof(buf), "%.9g,", d.x[r * d.names.size() + f]);
      out << buf;
    }
    for (const auto& [name, y] : d.labels) {
      std::snprintf(buf, sizeof(buf), "%.9g,", y[r]);
      out << buf;
    }
    std::snprintf(buf, sizeof(buf), "%.9g\n", d.weights[r]);
    out << buf;
  }
  ASSERT_TRUE(out.good()) << path;
}

struct Case {
  std::string name;
  std::string dataset;  // "adult" or "bike"
  std::string label;
  std::string type;
  std::map<std::string, std::string> params;
  bool weighted;
};

// With MLOOP_LINEAR_REFERENCE_DIR set, writes there adult.csv and bike.csv (the inputs),
// cases.json (each case's estimator, params and fitted model) and NAME.pred.csv (each case's
// predictions), for tests/reference/linear_sklearn.py; without it, into a temporary folder, so
// that every run fits the reference cases.
TEST(LinearReferenceTest, WritesSklearnComparison) {
  test::TempDir scratch;
  const char* env_dir = std::getenv("MLOOP_LINEAR_REFERENCE_DIR");
  const std::filesystem::path out_dir = env_dir != nullptr ? env_dir : scratch.path().string();
  std::map<std::string, Dataset> data = {{"adult", ReadAdult()}, {"bike", ReadBike()}};
  ASSERT_EQ(data["adult"].rows, 32561u);
  ASSERT_EQ(data["bike"].rows, 17379u);
  ASSERT_EQ(data["adult"].classes["race"], 5u);
  for (const auto& [name, d] : data) WriteDataset(d, out_dir / (name + ".csv"));

  // Tight tolerances and high iteration caps, so that both sides reach their minimum; the
  // script gives scikit-learn the same.
  const std::map<std::string, std::string> enet_tight = {{"tol", "1e-10"}, {"max_iter", "100000"}};
  auto with = [](std::map<std::string, std::string> a,
                 const std::map<std::string, std::string>& b) {
    a.insert(b.begin(), b.end());
    return a;
  };
  const std::vector<Case> cases = {
      {"logistic_binary", "adult", "income", "logistic", {}, false},
      {"logistic_binary_weighted", "adult", "income", "logistic", {{"C", "0.01"}}, true},
      {"logistic_binary_none_noint",
       "adult",
       "income",
       "logistic",
       {{"penalty", "none"}, {"fit_intercept", "false"}},
       false},
      {"logistic_multinomial", "adult", "race", "logistic", {}, false},
      {"logistic_multinomial_weighted", "adult", "race", "logistic", {{"C", "0.05"}}, true},
      {"logistic_multinomial_none", "adult", "race", "logistic", {{"penalty", "none"}}, false},
      {"linear", "bike", "cnt", "linear", {}, false},
      {"linear_weighted", "bike", "cnt", "linear", {}, true},
      {"ridge_weighted", "bike", "cnt", "ridge", {{"alpha", "10"}}, true},
      {"ridge_noint", "bike", "cnt", "ridge", {{"alpha", "1"}, {"fit_intercept", "false"}}, false},
      {"elastic_net", "bike", "cnt", "elastic_net",
       with({{"alpha", "0.5"}, {"l1_ratio", "0.7"}}, enet_tight), false},
      {"elastic_net_weighted", "bike", "cnt", "elastic_net",
       with({{"alpha", "2"}, {"l1_ratio", "0.9"}}, enet_tight), true},
      {"elastic_net_adult_noint", "adult", "income", "elastic_net",
       with({{"alpha", "0.01"}, {"fit_intercept", "false"}}, enet_tight), false},
  };
  Json written = Json::array();
  for (const Case& c : cases) {
    const Dataset& d = data[c.dataset];
    const std::vector<float>& y = d.labels.at(c.label);
    const size_t classes = c.type == "logistic" ? d.classes.at(c.label) : 0;
    LinearParams params = ParseLinearParams(c.type, c.params, c.name);
    LinearFit fit = FitLinear(c.type, params, d.x, d.rows, d.names.size(), d.names, y,
                              c.weighted ? d.weights : std::vector<float>{}, classes);
    EXPECT_TRUE(fit.converged) << c.name;
    std::vector<float> pred(d.rows * fit.model.num_outputs());
    fit.model.Predict(d.x, d.rows, pred);
    std::ofstream out(out_dir / (c.name + ".pred.csv"));
    char buf[40];
    for (size_t r = 0; r < d.rows; ++r) {
      for (size_t k = 0; k < fit.model.num_outputs(); ++k) {
        std::snprintf(buf, sizeof(buf), "%s%.9g", k ? "," : "",
                      pred[r * fit.model.num_outputs() + k]);
        out << buf;
      }
      out << "\n";
    }
    ASSERT_TRUE(out.good());
    Json model = fit.model.ToJson();
    Json params_json = Json::object();
    for (const auto& [k, v] : c.params) params_json[k] = v;
    written.push_back(Json{{"name", c.name},
                           {"dataset", c.dataset},
                           {"label", c.label},
                           {"classes", classes},
                           {"type", c.type},
                           {"params", params_json},
                           {"weighted", c.weighted},
                           {"iterations", fit.iterations},
                           {"converged", fit.converged},
                           {"coef", model["coef"]},
                           {"intercept", model["intercept"]}});
  }
  std::ofstream out(out_dir / "cases.json");
  out << written.dump(1);
  ASSERT_TRUE(out.good());
}

}  // namespace
}  // namespace mloop::train

// Times mloop's CSV reader: parse FILE into a Table with types inferred, REPEAT times,
// and print one JSON line with every run's seconds. bench/csv/run compares it with
// pandas.read_csv on the same file.
//
//   bench_csv FILE REPEAT [NAMES]   (NAMES: comma-separated column names)
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "table/csv_reader.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_csv FILE REPEAT [NAMES]\n");
    return 2;
  }
  mloop::table::CsvOptions options;
  if (argc > 3) {
    std::string names = argv[3];
    size_t start = 0;
    for (;;) {
      size_t comma = names.find(',', start);
      options.names.push_back(names.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  int repeat = std::stoi(argv[2]);
  std::vector<double> seconds;
  size_t rows = 0, columns = 0;
  try {
    for (int i = 0; i < repeat; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto result = mloop::table::ReadCsv(argv[1], options);
      auto t1 = std::chrono::steady_clock::now();
      seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
      rows = result.table.num_rows();
      columns = result.table.num_columns();
    }
  } catch (const mloop::Error& e) {
    std::fprintf(stderr, "bench_csv: %s\n", e.what());
    return 1;
  }
  std::printf("{\"rows\": %zu, \"columns\": %zu, \"seconds\": [", rows, columns);
  for (size_t i = 0; i < seconds.size(); ++i) {
    std::printf("%s%.6f", i ? ", " : "", seconds[i]);
  }
  std::printf("]}\n");
  return 0;
}

// A progress bar on stderr, drawn only when stderr is a terminal and progress has not
// been turned off (`--json` and MLOOP_NO_PROGRESS turn it off), so scripts and CI logs
// never see it. Update may be called from any thread; redraws are limited to ten a
// second.
#ifndef MLOOP_CORE_PROGRESS_H_
#define MLOOP_CORE_PROGRESS_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mloop {

class ProgressBar {
 public:
  // `total` is in the caller's unit (bytes, rows, rounds); `unit` labels it.
  ProgressBar(std::string label, uint64_t total, std::string unit = "");
  ~ProgressBar();  // Clears the line.
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Add(uint64_t delta);
  void Set(uint64_t done);

  // Process-wide switch; the command line turns it off for --json.
  static void SetEnabled(bool enabled);
  static bool Enabled();

 private:
  void MaybeDraw(bool force);

  std::string label_;
  uint64_t total_;
  std::string unit_;
  std::atomic<uint64_t> done_{0};
  std::atomic<int64_t> last_draw_us_{0};
  std::mutex draw_mu_;
  bool active_;
  int64_t start_us_;
};

}  // namespace mloop

#endif  // MLOOP_CORE_PROGRESS_H_

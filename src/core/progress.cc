#include "core/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/time.h"

namespace mloop {
namespace {
std::atomic<bool> g_enabled{true};
}

void ProgressBar::SetEnabled(bool enabled) { g_enabled = enabled; }

bool ProgressBar::Enabled() {
  return g_enabled && ::isatty(STDERR_FILENO) && std::getenv("MLOOP_NO_PROGRESS") == nullptr;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      active_(Enabled()),
      start_us_(NowMicros()) {}

ProgressBar::~ProgressBar() {
  if (active_) std::fprintf(stderr, "\r\033[2K");
}

void ProgressBar::Add(uint64_t delta) {
  done_ += delta;
  MaybeDraw(false);
}

void ProgressBar::Set(uint64_t done) {
  done_ = done;
  MaybeDraw(false);
}

void ProgressBar::MaybeDraw(bool force) {
  if (!active_) return;
  int64_t now = NowMicros();
  int64_t last = last_draw_us_.load();
  if (!force && now - last < 100'000) return;
  if (!last_draw_us_.compare_exchange_strong(last, now)) return;
  std::lock_guard<std::mutex> lock(draw_mu_);
  uint64_t done = done_.load();
  double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 0;
  if (frac > 1) frac = 1;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  double secs = static_cast<double>(now - start_us_) / 1e6;
  std::fprintf(stderr, "\r\033[2K%s [%s] %3.0f%% %llu/%llu %s %.1fs", label_.c_str(), bar.c_str(),
               frac * 100, static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total_), unit_.c_str(), secs);
  std::fflush(stderr);
}

}  // namespace mloop

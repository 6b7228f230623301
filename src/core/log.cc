#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/time.h"

namespace mloop {
namespace {

LogLevel LevelFromEnv() {
  const char* env = std::getenv("MLOOP_LOG");
  if (env == nullptr) return LogLevel::kWarn;
  std::string_view v(env);
  if (v == "debug") return LogLevel::kDebug;
  if (v == "info") return LogLevel::kInfo;
  if (v == "error") return LogLevel::kError;
  return LogLevel::kWarn;
}

std::atomic<LogLevel>& Level() {
  static std::atomic<LogLevel> level{LevelFromEnv()};
  return level;
}

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};

}  // namespace

void SetLogLevel(LogLevel level) { Level() = level; }
LogLevel CurrentLogLevel() { return Level(); }

void Log(LogLevel level, std::string_view message) {
  if (level < Level().load()) return;
  std::string line = FormatIsoTimestamp(NowMicros() / 1000 * 1000);
  line += " ";
  line += kNames[static_cast<int>(level)];
  line += " ";
  line += message;
  line += "\n";
  // One write per message keeps lines from different threads whole.
  ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;  // Nowhere to report a failure to write the log.
}

}  // namespace mloop

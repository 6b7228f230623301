#include "registry/internal/git.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace mloop::registry::internal {

ProcessResult RunProcess(const std::vector<std::string>& argv) {
  ProcessResult result;
  if (argv.empty()) return result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.output = "cannot create a pipe";
    return result;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    result.output = "cannot start " + argv[0];
    return result;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (result.exit_code == 127 && result.output.empty()) result.output = argv[0] + " not found";
  return result;
}

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> Git(const std::filesystem::path& dir,
                             std::initializer_list<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", dir.string()};
  argv.insert(argv.end(), args);
  return argv;
}

}  // namespace

bool InGitWorkTree(const std::filesystem::path& dir) {
  ProcessResult r = RunProcess(Git(dir, {"rev-parse", "--is-inside-work-tree"}));
  return r.exit_code == 0 && Trim(r.output) == "true";
}

std::string HeadCommit(const std::filesystem::path& dir) {
  ProcessResult r = RunProcess(Git(dir, {"rev-parse", "--verify", "-q", "HEAD"}));
  return r.exit_code == 0 ? Trim(r.output) : "";
}

GitCommitResult CommitFile(const std::filesystem::path& dir, const std::filesystem::path& file,
                           const std::string& message) {
  GitCommitResult out;
  std::string path = file.string();
  // A workspace inside a repository that ignores it (a build folder, say) is not that
  // repository's business: no commit, and nothing to warn about.
  if (RunProcess(Git(dir, {"check-ignore", "--quiet", "--", path})).exit_code == 0) return out;
  ProcessResult add = RunProcess(Git(dir, {"add", "--", path}));
  if (add.exit_code != 0) {
    out.error = "git add " + path + " failed: " + Trim(add.output);
    return out;
  }
  // Nothing staged for the file (it is as committed): no commit.
  ProcessResult diff = RunProcess(Git(dir, {"diff", "--cached", "--quiet", "--", path}));
  if (diff.exit_code == 0 && !HeadCommit(dir).empty()) return out;
  std::vector<std::string> argv = {"git", "-C", dir.string()};
  if (RunProcess(Git(dir, {"config", "user.name"})).exit_code != 0) {
    argv.insert(argv.end(), {"-c", "user.name=mloop"});
  }
  if (RunProcess(Git(dir, {"config", "user.email"})).exit_code != 0) {
    argv.insert(argv.end(), {"-c", "user.email=mloop@localhost"});
  }
  // With a path, git commits that file alone, whatever else is staged.
  argv.insert(argv.end(), {"commit", "--quiet", "-m", message, "--", path});
  ProcessResult commit = RunProcess(argv);
  if (commit.exit_code != 0) {
    out.error = "git commit failed: " + Trim(commit.output);
    return out;
  }
  out.committed = true;
  out.commit = HeadCommit(dir);
  return out;
}

}  // namespace mloop::registry::internal

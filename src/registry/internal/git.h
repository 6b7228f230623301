// Committing the registry's desired-state files to the git repository the workspace is in, by
// running the `git` program (no shell; arguments are passed as they are). Thread-safe: each call
// runs its own processes.
#ifndef MLOOP_REGISTRY_INTERNAL_GIT_H_
#define MLOOP_REGISTRY_INTERNAL_GIT_H_

#include <filesystem>
#include <string>
#include <vector>

namespace mloop::registry::internal {

struct ProcessResult {
  int exit_code = -1;  // -1 when the program could not be started or did not exit normally.
  std::string output;  // Its stdout and stderr together.
};

// Runs `argv` (argv[0] found on PATH) with stdin from /dev/null and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv);

// True when `dir` is inside a git work tree (and git is installed).
bool InGitWorkTree(const std::filesystem::path& dir);

// The outcome of committing one file.
struct GitCommitResult {
  bool committed = false;
  std::string commit;  // The new commit's id when committed.
  std::string error;   // Why not, when it failed; empty when there was nothing to commit.
};

// Stages `file` (inside the work tree of `dir`) and commits that file alone with `message`. Uses
// the identity mloop <mloop@localhost> only where git has none configured. Nothing is committed
// when the file is unchanged, or when git ignores it (a workspace in an ignored folder).
GitCommitResult CommitFile(const std::filesystem::path& dir, const std::filesystem::path& file,
                           const std::string& message);

// The commit HEAD is at, or "" when there is none.
std::string HeadCommit(const std::filesystem::path& dir);

}  // namespace mloop::registry::internal

#endif  // MLOOP_REGISTRY_INTERNAL_GIT_H_

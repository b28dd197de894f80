#include "sim/io/interrupt.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstring>

namespace servesim {
namespace {

constexpr int kMaxChildren = 1024;

struct CleanupSlot {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 file, 3 directory
  char path[PATH_MAX];
};

CleanupSlot g_slots[kMaxCleanupPaths];
std::atomic<pid_t> g_children[kMaxChildren];
std::atomic<bool> g_installed{false};
volatile sig_atomic_t g_handling = 0;

void write_text(const char* text) {
  std::size_t length = std::strlen(text);
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, length);
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
  }
  return "signal";
}

void on_signal(int sig) {
  if (g_handling) _exit(128 + sig);  // a second signal while cleaning up
  g_handling = 1;
  bool children = false;
  for (auto& child : g_children) {
    const pid_t pid = child.load();
    if (pid > 0) {
      ::kill(pid, sig);
      children = true;
    }
  }
  if (children) {
    for (auto& child : g_children) {
      const pid_t pid = child.load();
      if (pid > 0) ::waitpid(pid, nullptr, 0);
    }
  }
  for (int pass = 0; pass < 2; ++pass) {  // files first, then the directories they were in
    for (auto& slot : g_slots) {
      const int state = slot.state.load();
      if (pass == 0 && state == 2) ::unlink(slot.path);
      if (pass == 1 && state == 3) ::rmdir(slot.path);
    }
  }
  write_text("servesim: interrupted (");
  write_text(signal_name(sig));
  write_text("); partial outputs removed\n");
  _exit(128 + sig);
}

// Signals ignored when the process started (nohup, a background job's SIGINT) stay ignored.
bool g_ignored[NSIG] = {};

void install(int sig) {
  if (g_ignored[sig]) return;
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGINT);
  sigaddset(&action.sa_mask, SIGTERM);
  sigaddset(&action.sa_mask, SIGHUP);
  ::sigaction(sig, &action, nullptr);
}

int register_path(const std::string& path, int kind) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kMaxCleanupPaths; ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].state.store(kind);
      return i;
    }
  }
  return -1;
}

}  // namespace

void install_interrupt_handlers() {
  if (!g_installed) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction current;
      g_ignored[sig] = ::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
    }
  }
  g_installed = true;
  reinstall_interrupt_handlers();
}

void reinstall_interrupt_handlers() {
  if (!g_installed) return;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) install(sig);
}

int register_cleanup_file(const std::string& path) { return register_path(path, 2); }

int register_cleanup_directory(const std::string& path) { return register_path(path, 3); }

void unregister_cleanup(int slot) {
  if (slot >= 0 && slot < kMaxCleanupPaths) g_slots[slot].state.store(0);
}

void register_child(pid_t pid) {
  for (auto& child : g_children) {
    pid_t expected = 0;
    if (child.compare_exchange_strong(expected, pid)) return;
  }
}

void unregister_child(pid_t pid) {
  for (auto& child : g_children) {
    pid_t expected = pid;
    if (child.compare_exchange_strong(expected, 0)) return;
  }
}

}  // namespace servesim

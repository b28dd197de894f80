#pragma once
// Contract: SIGINT, SIGTERM and SIGHUP end a command cleanly. Output files being
// written (hidden partial files) and a directory the command created are
// registered here while they exist; a signal removes them (the directory only if
// empty), prints one line on stderr ("servesim: interrupted (SIGTERM); partial
// outputs removed") and exits with 128 + the signal number (130, 143, 129), as
// shells report a process killed by it. Child processes registered here (sweep
// plans) get the same signal first and are waited for. A signal ignored when the
// process started (nohup) stays ignored. The handler makes only
// async-signal-safe calls; paths live in a fixed table (kMaxCleanupPaths), so
// registering allocates nothing the handler reads. SimGrid installs its own
// SIGINT handler when an engine starts: reinstall_interrupt_handlers() puts
// this one back.

#include <string>
#include <sys/types.h>

namespace servesim {

/// Most paths registered at once; more are still removed by their owners, just not by a signal.
constexpr int kMaxCleanupPaths = 64;

/// Installs the handlers (idempotent); `main` calls it before running a command.
void install_interrupt_handlers();
/// Installs them again if install_interrupt_handlers() was called (after SimGrid replaced one).
void reinstall_interrupt_handlers();

/// Registers a file to unlink on a signal; returns a slot for unregister_cleanup (-1 if the table is full).
int register_cleanup_file(const std::string& path);
/// Registers a directory to rmdir (if empty, after the files) on a signal.
int register_cleanup_directory(const std::string& path);
/// Forgets a slot (the file was renamed into place or removed by its owner).
void unregister_cleanup(int slot);

/// Registers a child process to signal and reap before exiting on a signal.
void register_child(pid_t pid);
void unregister_child(pid_t pid);

}  // namespace servesim

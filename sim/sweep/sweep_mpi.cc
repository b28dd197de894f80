// sweep_mpi.h over OpenMPI's C API. Debian's SimGrid exports SMPI's own MPI_* functions, which the
// dynamic linker would bind our calls to; so libmpi is opened with dlopen (RTLD_DEEPBIND: it binds
// to itself first) and every call and predefined handle is looked up in it. Messages: rank 0 sends a worker a plan index (kTagPlan; kNoPlan:
// stop); the worker answers with a header (kTagResult: index, payload bytes, ok) and the payload in
// chunks of at most kChunk bytes (kTagChunk): the committed runs/<i> files, each as name length,
// name, size, bytes (64-bit little-endian counts), or an error message when ok is 0.
#include "sim/sweep/sweep_mpi.h"

#include <dlfcn.h>
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/core/config_error.h"

namespace servesim {
namespace {

constexpr int kTagPlan = 1, kTagResult = 2, kTagChunk = 3;
constexpr uint64_t kNoPlan = ~uint64_t{0};
constexpr std::size_t kChunk = std::size_t{1} << 30;
bool g_joined = false;

// The OpenMPI functions and predefined handles we use, from libmpi itself.
struct MpiApi {
  decltype(&MPI_Init_thread) init_thread = nullptr;
  decltype(&MPI_Finalize) finalize = nullptr;
  decltype(&MPI_Comm_rank) comm_rank = nullptr;
  decltype(&MPI_Comm_size) comm_size = nullptr;
  decltype(&MPI_Send) send = nullptr;
  decltype(&MPI_Recv) recv = nullptr;
  MPI_Comm world = nullptr;
  MPI_Datatype byte = nullptr, uint64 = nullptr;
};
MpiApi g_mpi;

void load_mpi() {
  void* library = nullptr;
  std::string tried;
  for (const char* name : {SERVESIM_MPI_LIBRARY, SERVESIM_MPI_LIBRARY_REAL, "libmpi.so.40", "libmpi.so"}) {
    library = ::dlopen(name, RTLD_NOW | RTLD_GLOBAL | RTLD_DEEPBIND);
    if (library != nullptr) break;
    tried += std::string(tried.empty() ? "" : ", ") + name;
  }
  if (library == nullptr) throw ConfigError::at("mpirun", "cannot load OpenMPI's libmpi (tried " + tried + ")");
  auto symbol = [&](const char* name) {
    void* address = ::dlsym(library, name);
    if (address == nullptr) throw ConfigError::at("mpirun", std::string("libmpi has no ") + name + " (not OpenMPI?)");
    return address;
  };
  g_mpi.init_thread = reinterpret_cast<decltype(&MPI_Init_thread)>(symbol("MPI_Init_thread"));
  g_mpi.finalize = reinterpret_cast<decltype(&MPI_Finalize)>(symbol("MPI_Finalize"));
  g_mpi.comm_rank = reinterpret_cast<decltype(&MPI_Comm_rank)>(symbol("MPI_Comm_rank"));
  g_mpi.comm_size = reinterpret_cast<decltype(&MPI_Comm_size)>(symbol("MPI_Comm_size"));
  g_mpi.send = reinterpret_cast<decltype(&MPI_Send)>(symbol("MPI_Send"));
  g_mpi.recv = reinterpret_cast<decltype(&MPI_Recv)>(symbol("MPI_Recv"));
  // OpenMPI's MPI_COMM_WORLD, MPI_BYTE, MPI_UINT64_T are the addresses of these objects.
  g_mpi.world = static_cast<MPI_Comm>(symbol("ompi_mpi_comm_world"));
  g_mpi.byte = static_cast<MPI_Datatype>(symbol("ompi_mpi_byte"));
  g_mpi.uint64 = static_cast<MPI_Datatype>(symbol("ompi_mpi_uint64_t"));
}

bool started_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

void append_u64(std::string& out, uint64_t value) {
  for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((value >> (8 * b)) & 0xff));
}

uint64_t read_u64(const std::string& in, std::size_t& at) {
  if (at + 8 > in.size()) throw std::runtime_error("sweep over MPI: truncated result");
  uint64_t value = 0;
  for (int b = 0; b < 8; ++b) value |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + b])) << (8 * b);
  at += 8;
  return value;
}

std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw std::runtime_error("sweep over MPI: cannot read " + path.string());
  return text.str();
}

// Every file of a committed plan directory, names sorted (the order does not matter, but is fixed).
std::string pack_directory(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::string out;
  append_u64(out, files.size());
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    const std::string data = read_whole(file);
    append_u64(out, name.size());
    out += name;
    append_u64(out, data.size());
    out += data;
  }
  return out;
}

void unpack_directory(const std::string& payload, const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::size_t at = 0;
  const uint64_t files = read_u64(payload, at);
  for (uint64_t f = 0; f < files; ++f) {
    const uint64_t name_size = read_u64(payload, at);
    const std::string name = payload.substr(at, name_size);
    at += name_size;
    const uint64_t size = read_u64(payload, at);
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." || at + size > payload.size()) {
      throw std::runtime_error("sweep over MPI: malformed result");
    }
    std::ofstream out(dir / name, std::ios::binary);
    out.write(payload.data() + at, static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw ConfigError::at((dir / name).string(), "cannot write the plan's file (disk full?)");
    at += size;
  }
}

void send_result(uint64_t index, bool ok, const std::string& payload) {
  const uint64_t header[3] = {index, payload.size(), ok ? 1u : 0u};
  g_mpi.send(header, 3, g_mpi.uint64, 0, kTagResult, g_mpi.world);
  for (std::size_t at = 0; at < payload.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, payload.size() - at);
    g_mpi.send(payload.data() + at, static_cast<int>(n), g_mpi.byte, 0, kTagChunk, g_mpi.world);
  }
}

void send_plan(int rank, uint64_t index) { g_mpi.send(&index, 1, g_mpi.uint64, rank, kTagPlan, g_mpi.world); }

}  // namespace

MpiWorld mpi_join() {
  if (!started_by_mpirun()) return {};
  // Plans run in forked children that never call MPI; OpenMPI need not warn about the fork.
  ::setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
  load_mpi();
  int provided = 0;
  g_mpi.init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided);
  g_joined = true;
  MpiWorld world;
  g_mpi.comm_rank(g_mpi.world, &world.rank);
  g_mpi.comm_size(g_mpi.world, &world.size);
  return world;
}

void mpi_leave() {
  if (g_joined) g_mpi.finalize();
  g_joined = false;
}

std::vector<SweepRow> run_sweep_coordinator(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
                                            const MpiWorld& world) {
  (void)prices;  // the workers price their own capacity searches; rank 0 prices the rows afterwards
  SweepPlans plans = prepare_sweep(spec, options);
  const std::size_t total = plans.rows.size();
  std::size_t done = total - plans.todo.size();
  std::size_t next = 0, busy = 0;
  for (int rank = 1; rank < world.size; ++rank) {
    if (next < plans.todo.size()) {
      send_plan(rank, plans.todo[next++]);
      ++busy;
    } else {
      send_plan(rank, kNoPlan);
    }
  }
  std::string failure;
  while (busy > 0) {
    uint64_t header[3] = {0, 0, 0};
    MPI_Status status;
    g_mpi.recv(header, 3, g_mpi.uint64, MPI_ANY_SOURCE, kTagResult, g_mpi.world, &status);
    const int rank = status.MPI_SOURCE;
    std::string payload(header[1], '\0');
    for (std::size_t at = 0; at < payload.size(); at += kChunk) {
      const std::size_t n = std::min(kChunk, payload.size() - at);
      g_mpi.recv(payload.data() + at, static_cast<int>(n), g_mpi.byte, rank, kTagChunk, g_mpi.world, MPI_STATUS_IGNORE);
    }
    --busy;
    const std::size_t index = header[0];
    if (header[2] == 0) {
      if (failure.empty()) failure = payload;  // stop handing out plans; wait for the ones under way
    } else if (failure.empty()) {
      const std::string staging = plan_staging_dir(options, index);
      unpack_directory(payload, staging);
      commit_plan_directory(staging, (std::filesystem::path(options.out_dir) / "runs" / std::to_string(index)).string());
      plans.rows[index] = load_plan_row(options, index);
      ++done;
      if (options.on_done) options.on_done(done, total, plans.rows[index]);
    }
    if (failure.empty() && next < plans.todo.size()) {
      send_plan(rank, plans.todo[next++]);
      ++busy;
    } else {
      send_plan(rank, kNoPlan);
    }
  }
  if (!failure.empty()) throw ConfigError::at("mpirun", failure);
  return std::move(plans.rows);
}

void run_sweep_worker(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices, const MpiWorld& world) {
  // A private scratch directory on this machine; each plan runs there as in a local sweep.
  std::string scratch = (std::filesystem::temp_directory_path() /
                         ("servesim-sweep-rank" + std::to_string(world.rank) + "-XXXXXX")).string();
  if (::mkdtemp(scratch.data()) == nullptr) throw std::runtime_error("sweep over MPI: cannot create a scratch directory");
  SweepRunOptions local = options;
  local.out_dir = scratch;
  local.jobs = 1;
  local.resume = false;
  local.on_done = nullptr;
  local.on_resumed = nullptr;
  const SweepPlans plans = prepare_sweep(spec, local);
  for (;;) {
    uint64_t index = kNoPlan;
    g_mpi.recv(&index, 1, g_mpi.uint64, 0, kTagPlan, g_mpi.world, MPI_STATUS_IGNORE);
    if (index == kNoPlan) break;
    const std::filesystem::path dir = std::filesystem::path(scratch) / "runs" / std::to_string(index);
    try {
      run_plans(spec, local, prices, plans.settings, {static_cast<std::size_t>(index)}, [](std::size_t) {});
      send_result(index, true, pack_directory(dir));
    } catch (const std::exception& error) {
      send_result(index, false, error.what());
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
}

}  // namespace servesim

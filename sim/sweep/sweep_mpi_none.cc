// sweep_mpi.h without MPI (CMake found none): only local sweeps; started by mpirun, it says so.
#include <cstdlib>
#include <string>

#include "sim/core/config_error.h"
#include "sim/sweep/sweep_mpi.h"

namespace servesim {

MpiWorld mpi_join() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* size = std::getenv(name);
    if (size != nullptr && std::atoi(size) > 1) {
      throw ConfigError::at("mpirun", "this servesim was built without MPI (install libopenmpi-dev and rebuild); "
                                      "run the sweep without mpirun, or with one rank");
    }
  }
  return {};
}

void mpi_leave() {}

std::vector<SweepRow> run_sweep_coordinator(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
                                            const MpiWorld&) {
  return run_sweep(spec, options, prices);
}

void run_sweep_worker(const SweepSpec&, const SweepRunOptions&, PriceBook&, const MpiWorld&) {}

}  // namespace servesim

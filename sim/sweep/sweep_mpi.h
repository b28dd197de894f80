#pragma once
// Contract: a sweep spread over the ranks of an MPI job (`mpirun -np N
// servesim sweep ...`, OpenMPI's C API; built only when CMake finds MPI).
// Rank 0 does what a local sweep does around the simulations: it prepares
// DIR/runs (resume included), hands plan indices out one at a time to ranks
// 1..N-1 as they become free, and commits each plan it gets back under
// runs/<i> exactly as a local sweep commits it (staged, renamed in one step),
// then writes the sweep's outputs. Ranks 1..N-1 each run one plan at a time
// (its own run, then a capacity search's other rates, through the same code as
// a local sweep) into a private scratch directory and send rank 0 every file
// of the committed runs/<i>. The files are those a local sweep writes, so the
// outputs are byte-identical to a local run's (summary.json up to wall_s).
// Every rank must see the sweep file, the base config, traces and catalogs at
// the same paths (a shared file system, or copies). Not under mpirun, or with
// one rank, the sweep is local (fork pool, --jobs).

#include <vector>

#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"

namespace servesim {

struct MpiWorld {
  int rank = 0;
  int size = 1;  // 1: not an MPI job (or one rank): the sweep runs locally
};

/// Joins the MPI job when this process was started by mpirun (MPI_Init); {0, 1} otherwise. Throws
/// ConfigError when started by mpirun with more than one rank but built without MPI.
MpiWorld mpi_join();
/// Leaves the job (MPI_Finalize) if mpi_join joined one.
void mpi_leave();

/// Rank 0 of `world` (size > 1): every plan's row, the plans run on the other ranks.
std::vector<SweepRow> run_sweep_coordinator(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
                                            const MpiWorld& world);
/// The other ranks: run the plans rank 0 sends until it says there are no more.
void run_sweep_worker(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices, const MpiWorld& world);

}  // namespace servesim

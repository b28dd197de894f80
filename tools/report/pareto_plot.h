#pragma once
// Contract: pareto.svg (also drawn in the sweep's report.html), a scatter
// plot of a sweep's feasible plans on its first two objectives (y = the
// first, x = the second; with one objective, x is the plan index), readable
// at 1,000 plans: front plans filled and labelled (index, plus axis values
// for fronts of at most 20), a label left out rather than drawn over another
// label or front point; dominated plans hollow and unlabelled; plans missing
// a constraint grey crosses; every mark coloured by the plan's hardware
// (legend at the right) and carrying a <title> tooltip with its axis values
// and every metric. Constraint bounds on a plotted metric are dashed lines.
// Each axis shows the front, the plans meeting the constraints (all feasible
// ones if none does), the bounds and the middle 90 % of the feasible plans;
// plans beyond (overloaded plans with 10^4 s latencies) are drawn in a shaded
// band just outside the axis and counted, not allowed to stretch it. The
// front is the one computed on all the objectives, so with three or more a
// front plan can look dominated in this projection (the subtitle says so).
// Axes as svg_scale draws them (log for wide all-positive ranges). Plans with
// a missing value on a plotted objective are left out and counted. Pure text
// output: the same rows give the same bytes.

#include <cstddef>
#include <string>
#include <vector>

#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"

namespace servesim {

/// The hardware a plan runs on, as its legend and tables name it ("h100-sxm", "h100-sxm + a100-sxm-80gb").
std::string plan_hardware_label(const SweepSpec& spec, std::size_t index);

/// The SVG document (UTF-8 text) for the rows and their Pareto front (indices into rows).
std::string pareto_svg(const SweepSpec& spec, const std::vector<SweepRow>& rows, const std::vector<std::size_t>& front);

}  // namespace servesim

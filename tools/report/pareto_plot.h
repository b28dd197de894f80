#pragma once
// Contract: pareto.svg, a scatter plot of a sweep's feasible plans on its first
// two objectives (y = the first, x = the second; with one objective, x is the
// plan index), the Pareto-front plans filled and labelled with their index and
// axis values, the others hollow and labelled with their index. The front is the one computed on all the
// objectives, so with three or more a front plan can look dominated in this
// projection (the subtitle says so). Axes as svg_scale draws them (log for wide
// all-positive ranges). Each point carries
// a <title> (tooltip) with the plan's axis values and every metric. Plans with
// a missing value on a plotted objective are left out and counted. Pure text
// output: the same rows give the same bytes.

#include <cstddef>
#include <string>
#include <vector>

#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"

namespace servesim {

/// The SVG document (UTF-8 text) for the rows and their Pareto front (indices into rows).
std::string pareto_svg(const SweepSpec& spec, const std::vector<SweepRow>& rows, const std::vector<std::size_t>& front);

}  // namespace servesim

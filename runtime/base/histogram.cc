#include "runtime/base/histogram.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace cairn {

std::string Histogram::Render(const std::string& name, const std::string& help) const {
  return prometheus::TextSerializer().Serialize(
      {prometheus::MetricFamily{name, help, prometheus::MetricType::Histogram, {histogram_.Collect()}}});
}

uint64_t Histogram::count() const { return histogram_.Collect().histogram.sample_count; }

}  // namespace cairn

// Package emf writes metric datums as CloudWatch Embedded Metric Format (EMF)
// log lines: in Lambda, lines on stdout become log events from which
// CloudWatch Logs extracts the metrics, with no PutMetricData calls (and no
// CloudWatch API cost or throttling; log ingestion is paid instead).
//
// EMF has no Counts array. A Count datum (Values [1], Counts [n]) is written
// as the single value n: the Sum statistic, the one the catalog's metrics and
// the template's alarms use, is the same as through PutMetricData, while
// SampleCount and Average differ (one sample per series and minute per file).
// Any other datum (DeliveryLagSeconds) is written as its values repeated by
// their counts, up to 100 values per metric per line as EMF allows, so its
// percentiles, Sum and SampleCount are those of PutMetricData.
//
// CloudWatch Logs delivers EMF at least once; unlike PutMetricData it may
// itself duplicate a line.
package emf

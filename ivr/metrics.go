package ivr

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the call flow's Prometheus metrics.
type Metrics struct {
	webhooks   *prometheus.HistogramVec
	escalation prometheus.Histogram
	failOpen   *prometheus.CounterVec
	sigFailed  *prometheus.CounterVec
	sigRelaxed prometheus.Counter
}

// NewMetrics creates the call flow's metrics; register them with Collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		webhooks: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotline_webhook_duration_seconds",
			Help:    "Time to answer a Twilio webhook, by step and HTTP status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"step", "code"}),
		escalation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hotline_escalation_depth",
			Help:    "Steps rung before an engineer accepted (1 = the first step).",
			Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10},
		}),
		failOpen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_fail_open_total",
			Help: "Calls routed without a fresh schedule: last known chain or emergency number.",
		}, []string{"reason"}),
		sigFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_signature_failures_total",
			Help: "Twilio webhooks refused (403) for a bad or missing signature, by path (other: not a hotline webhook path).",
		}, []string{"path"}),
		sigRelaxed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotline_signature_relaxed_total",
			Help: "Twilio webhooks whose signature was valid only without CallToken and StirVerstat.",
		}),
	}
	// Every path from the start at 0, so a rate over them is defined
	// before the first failure.
	for step := range knownSteps {
		m.sigFailed.WithLabelValues("/twilio/" + step)
	}
	m.sigFailed.WithLabelValues("other")
	return m
}

// Collectors returns the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.webhooks, m.escalation, m.failOpen, m.sigFailed, m.sigRelaxed}
}

// signatureFailed counts a refused signature on path, one of the webhook
// paths or "other", so a forger cannot add label values.
func (m *Metrics) signatureFailed(path string) {
	if m == nil {
		return
	}
	label := stepLabel(path)
	if label != "other" {
		label = "/twilio/" + label
	}
	m.sigFailed.WithLabelValues(label).Inc()
}

// stepLabel is a webhook path's step ("voice", "dial", …) or "other", so
// no request can add label values.
func stepLabel(path string) string {
	step, ok := strings.CutPrefix(path, "/twilio/")
	if !ok || !knownSteps[step] {
		return "other"
	}
	return step
}

func (m *Metrics) signatureRelaxed() {
	if m != nil {
		m.sigRelaxed.Inc()
	}
}

func (m *Metrics) escalated(depth int) {
	if m != nil {
		m.escalation.Observe(float64(depth))
	}
}

func (m *Metrics) failedOpen(reason string) {
	if m != nil {
		m.failOpen.WithLabelValues(reason).Inc()
	}
}

// observe records one webhook's latency.
func (m *Metrics) observe(r *http.Request, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(stepLabel(r.URL.Path), strconv.Itoa(code)).Observe(d.Seconds())
}

var knownSteps = map[string]bool{
	"voice": true, "fallback": true, "status": true, "menu": true, "pin": true, "dial": true, "whisper": true,
	"whisper/answer": true, "recorded": true, "no-message": true, "transcript": true,
	// The SMS webhooks notify serves, and the page calls' page serves, on
	// the same subrouter.
	"text-status": true, "sms": true, "page": true, "page/key": true, "page/status": true,
}

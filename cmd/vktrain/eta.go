package main

import (
	"math"
	"time"
)

// etaEstimator predicts when a loop over a known number of items ends from
// the pace of its recent steps: an exponential moving average of the time
// per item, updated at every step. The first step after a start (or
// resume) is not counted: it carries the one-time costs of the first step
// (pipeline compilation, buffer allocation, caches) and would put the
// estimate off by orders of magnitude for the whole epoch, as an average
// since the start does.
type etaEstimator struct {
	// alpha is the weight of the newest step in the average (0 < alpha <= 1).
	alpha float64

	lastAt   time.Time
	lastDone int
	started  bool    // start or a step has been seen (lastAt, lastDone are set)
	warm     bool    // the warm-up step is behind
	perItem  float64 // seconds per item, the moving average; 0: unknown
}

// newETA returns an estimator whose average weighs the newest step with
// alpha; 0.1 makes it follow a change of pace within some 20 steps.
func newETA(alpha float64) *etaEstimator { return &etaEstimator{alpha: alpha} }

// start marks the beginning of the loop at done items (0, or where a
// resumed run stands), at time now.
func (e *etaEstimator) start(done int, now time.Time) {
	e.lastAt, e.lastDone, e.started = now, done, true
}

// step records that done items are finished at time now.
func (e *etaEstimator) step(done int, now time.Time) {
	if !e.started {
		e.start(done, now)
		return
	}
	items := done - e.lastDone
	dt := now.Sub(e.lastAt).Seconds()
	e.lastAt, e.lastDone = now, done
	if items <= 0 || dt < 0 {
		return
	}
	if !e.warm {
		e.warm = true // the warm-up step: not averaged
		return
	}
	rate := dt / float64(items)
	if e.perItem == 0 {
		e.perItem = rate
		return
	}
	e.perItem += e.alpha * (rate - e.perItem)
}

// remaining returns the predicted time to finish total items, and false
// while no step has been measured yet.
func (e *etaEstimator) remaining(total int) (time.Duration, bool) {
	if !(e.perItem > 0) || math.IsInf(e.perItem, 0) {
		return 0, false
	}
	left := float64(max(total-e.lastDone, 0)) * e.perItem
	return time.Duration(left * float64(time.Second)).Round(time.Second), true
}

// itemsPerSecond is the recent pace, 0 while unknown.
func (e *etaEstimator) itemsPerSecond() float64 {
	if !(e.perItem > 0) {
		return 0
	}
	return 1 / e.perItem
}

// etaText formats the estimate for a progress line: "ETA 2m26s", or
// "ETA …" while unknown.
func (e *etaEstimator) etaText(total int) string {
	d, ok := e.remaining(total)
	if !ok {
		return "ETA …"
	}
	return "ETA " + d.String()
}

package schedules

import (
	"container/heap"
	"slices"
	"sort"
	"strconv"
	"time"
)

// OverrideIndex answers "which override covers rotation R at t" in O(log n).
// Each rotation's overrides are flattened once into sorted, non-overlapping
// segments, each naming the override that wins there: among overlapping
// overrides the most recently created one (the higher id on a tie). An
// index is immutable and safe for concurrent use.
type OverrideIndex struct {
	overrides []Override
	segments  map[string][]segment
}

// segment says overrides[ov] wins in [from, to).
type segment struct {
	from, to time.Time
	ov       int
}

// NewOverrideIndex builds an index of list. Overrides with To <= From are
// ignored. A nil or empty list gives an index that never matches.
func NewOverrideIndex(list []Override) *OverrideIndex {
	x := &OverrideIndex{
		overrides: slices.Clone(list),
		segments:  make(map[string][]segment),
	}
	byRotation := make(map[string][]int)
	for i, o := range x.overrides {
		if o.To.After(o.From) {
			byRotation[o.Rotation] = append(byRotation[o.Rotation], i)
		}
	}
	for rot, idx := range byRotation {
		x.segments[rot] = x.flatten(idx)
	}
	return x
}

// newer reports whether override i wins over override j where both apply.
func (x *OverrideIndex) newer(i, j int) bool {
	return Wins(x.overrides[i], x.overrides[j])
}

// flatten sweeps the edges of one rotation's overrides in time order,
// keeping the overrides in force in a heap ordered by recency.
func (x *OverrideIndex) flatten(idx []int) []segment {
	sort.Slice(idx, func(i, j int) bool { return x.overrides[idx[i]].From.Before(x.overrides[idx[j]].From) })
	edges := make([]time.Time, 0, 2*len(idx))
	for _, i := range idx {
		edges = append(edges, x.overrides[i].From, x.overrides[i].To)
	}
	slices.SortFunc(edges, time.Time.Compare)
	edges = slices.CompactFunc(edges, time.Time.Equal)

	live := &recency{x: x}
	var segs []segment
	next := 0
	for e, at := range edges[:len(edges)-1] {
		for next < len(idx) && !x.overrides[idx[next]].From.After(at) {
			heap.Push(live, idx[next])
			next++
		}
		for live.Len() > 0 && !x.overrides[live.ids[0]].To.After(at) {
			heap.Pop(live) // ended: removed lazily once it reaches the top
		}
		if live.Len() == 0 {
			continue
		}
		win, end := live.ids[0], edges[e+1]
		if n := len(segs); n > 0 && segs[n-1].ov == win && segs[n-1].to.Equal(at) {
			segs[n-1].to = end
			continue
		}
		segs = append(segs, segment{from: at, to: end, ov: win})
	}
	return segs
}

// At returns the override that covers rotation at t, if any.
func (x *OverrideIndex) At(rotation string, t time.Time) (Override, bool) {
	if x == nil {
		return Override{}, false
	}
	segs := x.segments[rotation]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].to.After(t) })
	if i == len(segs) || segs[i].from.After(t) {
		return Override{}, false
	}
	return x.overrides[segs[i].ov], true
}

// Boundaries returns, sorted and without repeats, the instants in the open
// interval (from, to) at which the override covering rotation changes.
func (x *OverrideIndex) Boundaries(rotation string, from, to time.Time) []time.Time {
	if x == nil {
		return nil
	}
	segs := x.segments[rotation]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].to.After(from) })
	var out []time.Time
	add := func(t time.Time) {
		if t.After(from) && t.Before(to) && (len(out) == 0 || !out[len(out)-1].Equal(t)) {
			out = append(out, t)
		}
	}
	for ; i < len(segs) && segs[i].from.Before(to); i++ {
		add(segs[i].from)
		add(segs[i].to)
	}
	return out
}

// OnCall says who answers for rotation r at t and why. Outside the active
// window nobody does, overrides included; inside it an override covering t
// wins, else the member holding the shift; before the first handoff nobody.
// source is "override:<id>" or "rotation:<rotation id>" (README "Web page", the schedules view).
// ov may be nil.
func OnCall(r *Rotation, ov *OverrideIndex, t time.Time) (engineer, source string, ok bool) {
	if !r.ActiveAt(t) {
		return "", "", false
	}
	if o, ok := ov.At(r.ID, t); ok {
		return o.Engineer, "override:" + strconv.FormatInt(o.ID, 10), true
	}
	if s, ok := r.ShiftAt(t); ok {
		return s.Engineer, "rotation:" + r.ID, true
	}
	return "", "", false
}

// recency is a max-heap of override positions, most recent on top.
type recency struct {
	x   *OverrideIndex
	ids []int
}

func (h *recency) Len() int           { return len(h.ids) }
func (h *recency) Less(i, j int) bool { return h.x.newer(h.ids[i], h.ids[j]) }
func (h *recency) Swap(i, j int)      { h.ids[i], h.ids[j] = h.ids[j], h.ids[i] }
func (h *recency) Push(v any)         { h.ids = append(h.ids, v.(int)) }
func (h *recency) Pop() any {
	n := len(h.ids) - 1
	v := h.ids[n]
	h.ids = h.ids[:n]
	return v
}

// Wins reports whether override a wins over b where both cover their
// rotation: the one created later, the higher id on a tie (README
// "Overrides"). OverrideIndex resolves overlaps this way.
func Wins(a, b Override) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

// Overlapping returns the overrides of list, other than o itself (by id),
// that cover o's rotation for some of [o.From, o.To), in list's order.
func Overlapping(list []Override, o Override) []Override {
	var out []Override
	for _, x := range list {
		if x.ID != o.ID && x.Rotation == o.Rotation && x.From.Before(o.To) && o.From.Before(x.To) {
			out = append(out, x)
		}
	}
	return out
}

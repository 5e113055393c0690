package monitor

import (
	"slices"
	"strconv"
	"testing"
)

// TestCallbackQueueOrder: callbacks and hellos run in the order queued,
// each once, across batches that reuse the last batch's slice, and a
// callback queued while a batch runs runs after it.
func TestCallbackQueueOrder(t *testing.T) {
	q := NewCallbackQueue()
	var got []string
	hello := func(h Hello) { got = append(got, "hello "+h.Master) }
	want := []string{}
	for batch := range 3 {
		for i := range 5 {
			name := strconv.Itoa(batch) + "." + strconv.Itoa(i)
			if i%2 == 0 {
				q.pushHello(hello, Hello{Master: name})
				want = append(want, "hello "+name)
			} else {
				q.Push(func() {
					got = append(got, name)
					if i == 1 {
						q.Push(func() { got = append(got, name+" later") })
					}
				})
				want = append(want, name)
			}
		}
		want = append(want, strconv.Itoa(batch)+".1 later")
		q.Drain() // the batch; "later" was queued meanwhile
		q.Drain()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ran\n%q\nwant\n%q", got, want)
	}
	q.Drain()
	if len(got) != len(want) {
		t.Fatalf("a callback ran twice: %q", got[len(want):])
	}
}

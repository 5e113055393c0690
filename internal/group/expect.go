package group

import "strconv"

// Expectation is the expected size of the sentinel set and where it came
// from (shown by INFO raft).
type Expectation struct {
	Size   int
	Source string
}

// Sources of an Expectation.
const (
	SourceDirective = "directive"       // sentinel cluster-size
	SourceEnv       = "env"             // GOSENTINEL_CLUSTER_SIZE
	SourceQuorum    = "quorum"          // 2q-1 of the largest quorum
	SourceKnown     = "known-sentinels" // 1 + sentinels known and not down
	SourceSeeds     = "cluster-peers"   // 1 + seeds
	SourceFloor     = "minimum"         // a derived size is never below 2
)

// ExpectInputs is what a derived expectation is computed from.
type ExpectInputs struct {
	// Explicit is the operator's size (directive or environment), 0 if
	// none; ExplicitSource says which.
	Explicit       int
	ExplicitSource string
	// MaxQuorum is the largest quorum among the masters watched.
	MaxQuorum int
	// KnownAlive is how many other sentinels this one knows that are not
	// subjectively down.
	KnownAlive int
	// Seeds is how many explicit peer seeds are configured.
	Seeds int
}

// minDerived is the smallest derived size: a sentinel only forms a group
// of one when the operator says the set has one member.
const minDerived = 2

// Expected returns the expected size of the set: the operator's, else the
// largest of 2q-1, 1 + the sentinels known alive, 1 + the seeds, and 2.
func Expected(in ExpectInputs) Expectation {
	if in.Explicit > 0 {
		return Expectation{Size: in.Explicit, Source: in.ExplicitSource}
	}
	e := Expectation{Size: minDerived, Source: SourceFloor}
	for _, c := range []Expectation{
		{2*in.MaxQuorum - 1, SourceQuorum},
		{1 + in.KnownAlive, SourceKnown},
		{1 + in.Seeds, SourceSeeds},
	} {
		if c.Size > e.Size {
			e = c
		}
	}
	return e
}

// Quorum is the number of sentinels that make a majority of size n.
func Quorum(n int) int { return n/2 + 1 }

// String renders an expectation as INFO shows it: "3 (quorum)".
func (e Expectation) String() string { return strconv.Itoa(e.Size) + " (" + e.Source + ")" }

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
	// subjectively down; KnownDown how many more it knows that are.
	KnownAlive, KnownDown int
	// Forming: the size is asked for a formation round, where the down
	// ones count too. redis-sentinel counts every sentinel it knows as a
	// voter, down or not; a peer cut off by a partition at first start is
	// still part of the set, and counting only the reachable ones let each
	// side of the cut (5 sentinels listed, quorum 2: 3 | 2) take itself for
	// the whole set and form a group of its own. The sentinel tells its
	// peers this size, and they take the largest they hear (Decide): a
	// cut-off sentinel known to any of them counts for all, so one that
	// knows only the others on its side of the cut waits too
	// (TestAsymmetricKnowledgeAtFirstStartFormsOneGroup). The price: the
	// entries one sentinel holds of sentinels gone for good (a migrated
	// sentinel.conf's known-sentinel lines, forged hellos) raise the size
	// for every sentinel while they form, and can keep a fresh set from
	// forming until SENTINEL RESET on that sentinel, or cluster-size. In
	// redis-sentinel they raise only that sentinel's count of voters; here
	// telling only the reachable ones let a minority that heard of the
	// rest from one of its members form a second group. A member counts the
	// reachable ones only: the entries of sentinels gone for good (a new id
	// at a new address leaves the old one behind, as in redis until
	// SENTINEL RESET) would otherwise raise the floor of removals forever.
	Forming bool
	// Seeds is how many explicit peer seeds are configured.
	Seeds int
}

// minDerived is the smallest derived size: a sentinel only forms a group
// of one when the operator says the set has one member.
const minDerived = 2

// Expected returns the expected size of the set: the operator's, else the
// largest of 2q-1, 1 + the sentinels known (alive, or while forming any),
// 1 + the seeds, and 2.
func Expected(in ExpectInputs) Expectation {
	if in.Explicit > 0 {
		return Expectation{Size: in.Explicit, Source: in.ExplicitSource}
	}
	e := Expectation{Size: minDerived, Source: SourceFloor}
	for _, c := range []Expectation{
		{2*in.MaxQuorum - 1, SourceQuorum},
		{1 + in.KnownAlive + known(in), SourceKnown},
		{1 + in.Seeds, SourceSeeds},
	} {
		if c.Size > e.Size {
			e = c
		}
	}
	return e
}

// known is how many of the down sentinels count: all while forming.
func known(in ExpectInputs) int {
	if in.Forming {
		return in.KnownDown
	}
	return 0
}

// Quorum is the number of sentinels that make a majority of size n.
func Quorum(n int) int { return n/2 + 1 }

// String renders an expectation as INFO shows it: "3 (quorum)".
func (e Expectation) String() string { return strconv.Itoa(e.Size) + " (" + e.Source + ")" }

// Package boltstore keeps durable runs (engine.RunState) in one bbolt
// file: `arazzo run --state FILE` records into it, `arazzo resume FILE`
// continues from it, `arazzo runs FILE` lists it.
//
// bbolt rather than SQLite: the store holds one small document per run,
// read and rewritten whole, so a key/value file with fsynced transactions
// is all it needs; bbolt is pure Go, one small module, and its file lock
// keeps two processes from driving the same runs at once.
package boltstore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/arazzo-go/arazzo/engine"
)

var bucket = []byte("runs")

// Meta is what the store keeps about a run besides its state: enough to
// find the document again and to know it is the same document.
type Meta struct {
	ID       string    `json:"id"`
	Document string    `json:"document"` // absolute path
	Hash     string    `json:"hash"`     // of the document and its local sources
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Flags are the command-line settings to run it with again.
	Flags map[string][]string `json:"flags,omitempty"`
}

// Run is a stored run.
type Run struct {
	Meta
	State engine.RunState `json:"state"`
}

// Store is an open store file.
type Store struct{ db *bolt.DB }

// ErrLocked: another process has the file open.
var ErrLocked = errors.New("the state file is in use by another process")

// Open opens (creating it if needed) a store file.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrVersionMismatch) || errors.Is(err, bolt.ErrChecksum) {
		return nil, fmt.Errorf("%s is not a state file (%v)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Begin starts recording a new run; its journal goes into Options.Journal.
func (s *Store) Begin(m Meta) (*Journal, error) {
	var id [6]byte
	rand.Read(id[:])
	now := time.Now().UTC()
	m.ID = now.Format("20060102-150405-") + hex.EncodeToString(id[:])
	m.Started, m.Updated = now, now
	return &Journal{store: s, meta: m}, nil
}

// Continue records a resumed run under its id.
func (s *Store) Continue(run *Run) *Journal {
	return &Journal{store: s, meta: run.Meta}
}

// Load reads one run.
func (s *Store) Load(id string) (*Run, error) {
	var run *Run
	err := s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get([]byte(id))
		if data == nil {
			return fmt.Errorf("no run %q in the state file", id)
		}
		var err error
		run, err = decode(data)
		return err
	})
	return run, err
}

// List returns every run, the most recently started first.
func (s *Store) List() ([]*Run, error) {
	var runs []*Run
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			run, err := decode(v)
			if err != nil {
				return fmt.Errorf("run %s: %v", k, err)
			}
			runs = append(runs, run)
			return nil
		})
	})
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Started.After(runs[j].Started) })
	return runs, err
}

func decode(data []byte) (*Run, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // outputs and inputs keep their numbers exact
	var run Run
	if err := d.Decode(&run); err != nil {
		return nil, err
	}
	return &run, nil
}

// Journal records one run (engine.Journal).
type Journal struct {
	store *Store
	meta  Meta
}

// ID is the run's id.
func (j *Journal) ID() string { return j.meta.ID }

// Record writes the run's state in one fsynced transaction.
func (j *Journal) Record(st *engine.RunState) error {
	j.meta.Updated = time.Now().UTC()
	data, err := json.Marshal(Run{Meta: j.meta, State: *st})
	if err != nil {
		return err
	}
	return j.store.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(j.meta.ID), data)
	})
}

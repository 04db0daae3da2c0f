package incident

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// filler sets every field of a value, recursively, to a non-zero value of
// its own (no two fields alike), so a field the spool drops or swaps shows.
type filler struct {
	t *testing.T
	n int
}

var timeType = reflect.TypeFor[time.Time]()

func (f *filler) fill(v reflect.Value, path string) {
	f.n++
	switch {
	case v.Type() == timeType:
		// Sub-second digits too: the spool keeps an event's exact time.
		at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).Add(time.Duration(f.n)*time.Second + time.Duration(f.n)*time.Millisecond)
		v.Set(reflect.ValueOf(at))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(path + "#" + strconv.Itoa(f.n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(v.Index(i), path+"[]")
		}
	case reflect.Struct:
		for i := range v.NumField() {
			field := v.Type().Field(i)
			if !field.IsExported() {
				f.t.Fatalf("%s.%s is unexported: the spool cannot carry it", path, field.Name)
			}
			f.fill(v.Field(i), path+"."+field.Name)
		}
	default:
		f.t.Fatalf("%s: the spool test does not know how to fill a %s; teach it, and the spool record", path, v.Type())
	}
}

// TestSpoolRecordCarriesEveryField writes an op whose start incident,
// update and events have every field set (by reflection: a field added to
// Incident, Event or Update is set too) through a spool file and reads it
// back unchanged. A field spoolRecord does not carry fails it.
func TestSpoolRecordCarriesEveryField(t *testing.T) {
	var full writeOp
	(&filler{t: t}).fill(reflect.ValueOf(&full).Elem(), "op")
	if len(full.Events) == 0 || full.Start == nil || len(full.Start.Events) == 0 || full.Update.DurationS == nil || full.Events[0].UnlessKey == "" {
		t.Fatalf("filler left fields empty: %+v", full)
	}
	sp := mustOpenSpool(t, filepath.Join(t.TempDir(), "hotline.spool"))
	defer sp.close()
	zero := writeOp{}
	mustKeep(t, sp, &full, &zero)
	got, _, err := sp.read()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d ops, want 2", len(got))
	}
	if !reflect.DeepEqual(*got[0], full) {
		t.Errorf("the op came back changed: %s", strings.Join(differences(reflect.ValueOf(*got[0]), reflect.ValueOf(full), "op"), ", "))
	}
	if !reflect.DeepEqual(*got[1], zero) {
		t.Errorf("an empty op came back as %s", opString(got[1]))
	}
}

// differences names the fields where got and want differ, and how.
func differences(got, want reflect.Value, path string) []string {
	if reflect.DeepEqual(got.Interface(), want.Interface()) {
		return nil
	}
	switch {
	case got.Type() != timeType && got.Kind() == reflect.Struct:
		var out []string
		for i := range got.NumField() {
			out = append(out, differences(got.Field(i), want.Field(i), path+"."+got.Type().Field(i).Name)...)
		}
		return out
	case got.Kind() == reflect.Pointer && !got.IsNil() && !want.IsNil():
		return differences(got.Elem(), want.Elem(), path)
	case got.Kind() == reflect.Slice && got.Len() == want.Len():
		var out []string
		for i := range got.Len() {
			out = append(out, differences(got.Index(i), want.Index(i), path+"["+strconv.Itoa(i)+"]")...)
		}
		return out
	}
	return []string{path + " = " + fmt.Sprint(got.Interface()) + ", want " + fmt.Sprint(want.Interface())}
}

func opString(op *writeOp) string {
	line, err := encodeSpoolLine(op)
	if err != nil {
		return err.Error()
	}
	return string(line)
}

// TestSpoolReadsLinesOfTheOldFormat: a spool written by hotline before
// spool records (Update under its Go field names, no version) is still
// replayed after an upgrade. These two lines are what that version wrote.
func TestSpoolReadsLinesOfTheOldFormat(t *testing.T) {
	const oldLines = `{"start":{"id":0,"call_sid":"CAold","from":"+15555550123","caller_name":"Ann","to":"+18005550100","team":"","menu_digit":"","customer":"acme","status":"","answered_by":null,"started_at":"2026-11-24T10:00:00Z","answered_at":null,"ended_at":null,"duration_s":null,"recording_url":null,"transcript":null,"config_revision":"rev1"},"call_sid":"CAold","update":{"Customer":"","Team":"","MenuDigit":"","Status":"","AnsweredBy":"","AnsweredAt":"0001-01-01T00:00:00Z","AnsweredAtKey":"","RecordingURL":"","Transcript":"","EndedAt":"0001-01-01T00:00:00Z","DurationS":null},"events":[{"at":"2026-11-24T10:00:00Z","type":"incoming","engineer":"","detail":"from +15555550123","key":"incoming"}]}
{"call_sid":"CAold","update":{"Customer":"acme","Team":"ops","MenuDigit":"1","Status":"answered","AnsweredBy":"alice","AnsweredAt":"2026-11-24T10:00:05Z","AnsweredAtKey":"whisper:p0:s0","RecordingURL":"https://r","Transcript":"hi","EndedAt":"2026-11-24T10:01:00Z","DurationS":42},"events":[{"at":"2026-11-24T10:00:01Z","type":"hangup","engineer":"alice","engineer_name":"Alice Adams","engineer_phone":"+15555550101","detail":"x","key":"hangup","if_in_progress":true}]}
`
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	acme, d := "acme", 42
	want := []*writeOp{
		{Start: &Incident{CallSid: "CAold", From: "+15555550123", CallerName: "Ann", To: "+18005550100", Customer: &acme, StartedAt: t0, ConfigRevision: "rev1"},
			CallSid: "CAold", Events: []Event{{At: t0, Type: "incoming", Detail: "from +15555550123", Key: "incoming"}}},
		{CallSid: "CAold", Update: Update{Customer: "acme", Team: "ops", MenuDigit: "1", Status: StatusAnswered, AnsweredBy: "alice",
			AnsweredAt: t0.Add(5 * time.Second), AnsweredAtKey: "whisper:p0:s0", RecordingURL: "https://r", Transcript: "hi", EndedAt: t0.Add(time.Minute), DurationS: &d},
			Events: []Event{{At: t0.Add(time.Second), Type: "hangup", Engineer: "alice", EngineerName: "Alice Adams", EngineerPhone: "+15555550101", Detail: "x", Key: "hangup", IfInProgress: true}}},
	}
	for i, line := range strings.Split(strings.TrimSpace(oldLines), "\n") {
		got, err := decodeSpoolLine([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("line %d read as %s\nwant %s", i+1, opString(got), opString(want[i]))
		}
	}
}

// TestSpoolRefusesANewerVersion: a line from a newer hotline (after a
// downgrade) stops the spool from opening rather than being skipped as torn.
func TestSpoolRefusesANewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.spool")
	sp := mustOpenSpool(t, path)
	if _, err := io.WriteString(sp.f, `{"v":99,"call_sid":"CAnew","events":[{"type":"ring","key":"k"}]}`+"\n"); err != nil {
		t.Fatal(err)
	}
	sp.close()
	if _, err := openSpool(path, zerolog.Nop()); !errors.Is(err, errNewerSpool) {
		t.Errorf("opening a spool with a newer line: %v, want errNewerSpool", err)
	}
}

// mustOpenSpool opens the spool at path, which must take its file.
func mustOpenSpool(t *testing.T, path string) *spool {
	t.Helper()
	sp, err := openSpool(path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if st := sp.state(); st.failed != nil {
		t.Fatalf("spool %s: %v", path, st.failed)
	}
	return sp
}

// mustKeep writes ops to the spool's file, which must take them.
func mustKeep(t *testing.T, sp *spool, ops ...*writeOp) {
	t.Helper()
	if n := sp.keep(ops); n != len(ops) {
		t.Fatalf("the spool file took %d of %d ops: %v", n, len(ops), sp.state().failed)
	}
}

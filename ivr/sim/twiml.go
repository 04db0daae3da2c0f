package sim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// node is a generic TwiML element (docs/twilio.md §2.4).
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Inner    string     `xml:",innerxml"`
	Children []node     `xml:",any"`
}

func (n node) name() string { return n.XMLName.Local }

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// intAttr returns the attribute as an integer, def when it is absent.
func (n node) intAttr(name string, def int) (int, error) {
	v := strings.TrimSpace(n.attr(name))
	if v == "" {
		return def, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("<%s %s=%q>: not a non-negative integer", n.name(), name, v)
	}
	return i, nil
}

// text returns the element's character data, including that inside nested
// markup such as SSML, with runs of white space collapsed.
func (n node) text() string {
	d := xml.NewDecoder(strings.NewReader(n.Inner))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// parseTwiML checks a webhook response the way Twilio does: 2xx, a TwiML
// content type, at most 64 kB, well-formed XML with a <Response> root.
func parseTwiML(status int, header http.Header, body []byte) (node, error) {
	var root node
	if status < 200 || status > 299 {
		return root, fmt.Errorf("HTTP status %d (Twilio error 11200)", status)
	}
	ct := header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "text/xml" && mt != "application/xml") {
		return root, fmt.Errorf("Content-Type %q is not text/xml or application/xml (Twilio error 12300)", ct)
	}
	if len(body) > maxBody {
		return root, errors.New("TwiML larger than 64 kB (Twilio error 11750)")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&root); err != nil {
		return root, fmt.Errorf("TwiML does not parse (Twilio error 12100): %w", err)
	}
	if root.name() != "Response" {
		return root, fmt.Errorf("TwiML root is <%s>, not <Response> (Twilio error 12100)", root.name())
	}
	// Nothing but white space and comments may follow the root.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return root, fmt.Errorf("TwiML does not parse (Twilio error 12100): %w", err)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return root, errors.New("TwiML has content after </Response> (Twilio error 12100)")
	}
	return root, nil
}

// URLs lists every URL of the call that ends up in an access log on the
// server's side: each URL requested, and each URL the answered TwiML names
// for a later request — the action, url, *Url and *Callback attributes
// (statusCallback, recordingStatusCallback, transcribeCallback, …) and the
// text of <Redirect> — whether or not the call got as far as using it.
func (r *Result) URLs() []string {
	var out []string
	var walk func(n node)
	walk = func(n node) {
		for _, a := range n.Attrs {
			if k := a.Name.Local; k == "action" || k == "url" || strings.HasSuffix(k, "Url") || strings.HasSuffix(k, "Callback") {
				out = append(out, a.Value)
			}
		}
		if n.name() == "Redirect" {
			out = append(out, n.text())
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, req := range r.Requests {
		out = append(out, req.URL)
		var root node
		if xml.Unmarshal([]byte(req.Body), &root) == nil {
			walk(root)
		}
	}
	return out
}

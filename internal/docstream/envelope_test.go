package docstream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/visengine-go/visengine/internal/benchutil"
)

// envelopeSpec describes one generated documento response.
type envelopeSpec struct {
	payload    []byte
	escape     bool   // PHP style: "/" written as "\/"
	wrap       string // "", `\n` or `\r\n`: escaped line break every 76 chars
	extraKeys  bool   // unknown keys, nested values, a trace
	shuffle    *rand.Rand
	nome       string
	dimensione int64
}

// build renders the envelope as PHP's json_encode would, with keys in the
// order chosen by spec.shuffle (nil keeps the documented order). It writes
// one buffer sized up front: the 8 MiB cases must not churn the heap.
func (e envelopeSpec) build() []byte {
	data := []string{
		`"nome":` + jsonString(e.nome),
		fmt.Sprintf(`"dimensione":%d`, e.dimensione),
		fileMarker,
	}
	top := []string{`"success":true`, `"message":""`, `"error":null`}
	if e.extraKeys {
		data = append(data, `"mime":"application\/zip"`, `"pagine":[1,2,{"x":[]}]`)
		top = append(top,
			`"trace":{"id":"a\"b\\c\u00e8","stack":[[1.5e3,-0.25,true,false,null],{}]}`,
			`"extra":-12`)
	}
	if e.shuffle != nil {
		e.shuffle.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	}
	top = append(top, `"data":{`+strings.Join(data, ",")+`}`)
	if e.shuffle != nil {
		e.shuffle.Shuffle(len(top), func(i, j int) { top[i], top[j] = top[j], top[i] })
	}
	head, tail, _ := strings.Cut("{"+strings.Join(top, ",")+"}", fileMarker)
	var buf bytes.Buffer
	buf.Grow(len(head) + len(tail) + 16 + base64.StdEncoding.EncodedLen(len(e.payload))*11/10)
	buf.WriteString(head)
	buf.WriteString(`"file":"`)
	writeFile(&buf, e.payload, e.escape, e.wrap)
	buf.WriteString(`"`)
	buf.WriteString(tail)
	return buf.Bytes()
}

const fileMarker = "\x00FILE\x00"

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// encodeFile gives the JSON string content for payload.
func encodeFile(payload []byte, escape bool, wrap string) string {
	var buf bytes.Buffer
	writeFile(&buf, payload, escape, wrap)
	return buf.String()
}

// writeFile writes payload as base64 JSON string content, in lines of 76
// characters separated by wrap, with "/" escaped when escape is set.
func writeFile(dst *bytes.Buffer, payload []byte, escape bool, wrap string) {
	benchutil.WriteBase64(dst, payload, escape, wrap)
}

// naive is the reference decoder: encoding/json plus DecodeString, with
// exact-case keys (encoding/json's struct matching is case-insensitive,
// which Extract deliberately is not).
func naive(body []byte) (Meta, []byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return Meta{}, nil, err
	}
	m := Meta{Dimensione: -1}
	var data map[string]json.RawMessage
	for _, step := range []struct {
		key string
		dst any
	}{{"success", &m.Success}, {"message", &m.Message}, {"error", &m.ErrorCode}, {"data", &data}} {
		if raw, ok := top[step.key]; ok {
			if err := json.Unmarshal(raw, step.dst); err != nil {
				return m, nil, err
			}
		}
	}
	var file *string
	for _, step := range []struct {
		key string
		dst any
	}{{"nome", &m.Nome}, {"dimensione", &m.Dimensione}, {"file", &file}} {
		if raw, ok := data[step.key]; ok {
			if err := json.Unmarshal(raw, step.dst); err != nil {
				return m, nil, err
			}
		}
	}
	if file == nil {
		return m, nil, nil
	}
	m.FileSeen = true
	out, err := base64.StdEncoding.DecodeString(*file)
	m.BytesWritten = int64(len(out))
	return m, out, err
}

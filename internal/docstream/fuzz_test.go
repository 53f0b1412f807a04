package docstream

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzExtract checks that Extract never panics and, when both it and the
// naive decoder accept an input, that they produce the same bytes.
func FuzzExtract(f *testing.F) {
	f.Add([]byte(`{"data":{"nome":"a.zip","dimensione":3,"file":"QUJD"},"success":true,"message":"","error":null}`))
	f.Add([]byte(`{"data":null,"success":false,"message":"document not yet available","error":247}`))
	f.Add([]byte(`{"success":true,"data":{"file":"UEsFBg\/\/AAA=\r\nQQ==","x":[{"y":null}]},"trace":{"a":[1e5,-0.5]}}`))
	f.Add([]byte(`{"data":{"file":"\u0051UJD\n"}}`))
	f.Add([]byte(`{"data":{"file":"QQ==QQ=="}}`))
	f.Add([]byte(`{"data":{"dimensione":2,"file":"QUJD"},"success":true}`))
	f.Add([]byte(`{"data":{"file":"QUJD","dimensione":2},"success":true}`))
	body, _ := smallEnvelope(f, 200)
	f.Add(body)
	f.Fuzz(func(t *testing.T, in []byte) {
		var got bytes.Buffer
		meta, err := Extract(bytes.NewReader(in), &got, Options{MaxBytes: 1 << 20})
		if errors.Is(err, ErrOverDimensione) && int64(got.Len()) > meta.Dimensione {
			t.Fatalf("wrote %d bytes past dimensione %d", got.Len(), meta.Dimensione)
		}
		if err != nil {
			return
		}
		if meta.BytesWritten != int64(got.Len()) {
			t.Fatalf("BytesWritten %d, wrote %d", meta.BytesWritten, got.Len())
		}
		_, want, nerr := naive(in)
		if nerr != nil {
			return
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("output differs from the naive decoder: %d vs %d bytes", got.Len(), len(want))
		}
	})
}

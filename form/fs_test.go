package form_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"testing/fstest"
)

// fstestMap builds an fs.FS from file names and contents.
type fstestMap map[string]string

func (m fstestMap) Open(name string) (fs.File, error) {
	mfs := fstest.MapFS{}
	for k, v := range m {
		mfs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return mfs.Open(name)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func httpGet(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }

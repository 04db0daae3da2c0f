package web

import (
	"errors"
	"mime"
	"net/http"
	"strings"
)

// MaxBodyBytes bounds the body of every page and API request: the longest
// form (a manager's note) is a few kilobytes.
const MaxBodyBytes = 64 << 10

// LimitBody guards a handler that reads at most a url-encoded form. A
// multipart body, or any other body that is not url-encoded, gets 415
// before a byte of it is read: net/http would spool a multipart file part to
// the temp directory, and a handler that copies the request (WithContext)
// leaves the file behind. A body over MaxBodyBytes gets 413. The form is
// parsed here, within the limit, so the handlers' FormValue calls find it
// parsed and read nothing more.
func LimitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		media, _, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(strings.ToLower(ct), "multipart/") || (r.ContentLength != 0 && media != "application/x-www-form-urlencoded") {
			w.Header().Set("Accept-Post", "application/x-www-form-urlencoded")
			http.Error(w, "send forms as application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
			return
		}
		if r.ContentLength > MaxBodyBytes {
			tooLarge(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		var big *http.MaxBytesError
		if err := r.ParseForm(); errors.As(err, &big) {
			tooLarge(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.Error(w, "the request body is larger than 64 KiB", http.StatusRequestEntityTooLarge)
}

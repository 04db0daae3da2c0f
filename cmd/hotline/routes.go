package main

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/ivr"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/web"
)

// deps is everything the routes are wired from.
type deps struct {
	log       zerolog.Logger
	db        *store.DB
	router    *routing.Router
	incidents *routing.Incidents
	announce  *routing.Announcements
	users     *web.Users
	authToken string
	publicURL string
	now       func() time.Time
}

// routes is every URL hotline serves, in one place.
func routes(d deps) http.Handler {
	r := mux.NewRouter()
	r.Handle("/healthz", handleHealth()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReady(d.db)).Methods(http.MethodGet)

	flow := ivr.NewFlow(d.router, d.incidents, d.announce, d.publicURL, d.now, d.log)
	tw := r.PathPrefix("/twilio").Subrouter()
	tw.Use(ivr.LogWebhooks(d.log), ivr.RequireSignature(d.authToken, d.publicURL, d.log))
	tw.Handle("/voice", flow.HandleIncoming()).Methods(http.MethodPost)
	tw.Handle("/fallback", flow.HandleFallback()).Methods(http.MethodPost)
	tw.Handle("/status", flow.HandleStatus()).Methods(http.MethodPost)
	tw.Handle("/menu", flow.HandleMenu()).Methods(http.MethodPost)
	tw.Handle("/dial", flow.HandleDialDone()).Methods(http.MethodPost)
	tw.Handle("/whisper", flow.HandleWhisper()).Methods(http.MethodPost)
	tw.Handle("/whisper/answer", flow.HandleWhisperAnswer()).Methods(http.MethodPost)
	tw.Handle("/recorded", flow.HandleRecorded()).Methods(http.MethodPost)
	tw.Handle("/no-message", flow.HandleNoMessage()).Methods(http.MethodPost)
	tw.Handle("/transcript", flow.HandleTranscript()).Methods(http.MethodPost)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(web.RequireBasicAuth(d.users, d.log))
	api.Handle("/incidents", web.HandleAPIIncidents(d.incidents, d.log)).Methods(http.MethodGet)
	api.Handle("/incidents/{id}", web.HandleAPIIncident(d.incidents, d.log)).Methods(http.MethodGet)
	api.Handle("/oncall", web.HandleAPIOnCall(d.router, d.now, d.log)).Methods(http.MethodGet)
	return r
}

func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// handleReady answers 200 only while the database answers.
func handleReady(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
}

package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/featgraph/featgraph/fetchers"
)

// BatchAnswer is the answer to a decide-batch: one Answer per row, in the
// order of the rows.
type BatchAnswer struct {
	Results []Answer `json:"results"`
}

// handleBatch answers N rows with N results, in order. The body is a JSON
// array of flat input objects. The answer is 200 when the array could be
// read; each row has its own status (200, 400, 502, 504), as a decide of
// that row would. Rows run at most WithBatch's parallel at once, each
// within the graph's deadline; X-Request-Deadline-Ms bounds the whole
// batch.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	sv, ctx, done, ok := s.admit(w, r)
	if !ok {
		return
	}
	defer done()
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil || rows == nil {
		writeError(w, http.StatusBadRequest, "", "the body must be a JSON array of input objects")
		return
	}
	if len(rows) > s.cfg.maxBatch {
		writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("%d rows: the limit is %d", len(rows), s.cfg.maxBatch))
		return
	}
	explain := r.URL.Query().Get(ExplainParam)
	withExplain := explain != "" && explain != "0" && explain != "false"
	out := BatchAnswer{Results: make([]Answer, len(rows))}
	workers := min(s.cfg.batchParallel, len(rows))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rows) {
					return
				}
				named, inputs, field, err := sv.parseInputs(rows[i])
				if err != nil {
					out.Results[i] = Answer{Graph: sv.name, Version: sv.version, Status: http.StatusBadRequest,
						Error: "row " + strconv.Itoa(i) + ": " + err.Error(), Field: field}
					continue
				}
				rctx := fetchers.WithRequestCache(ctx)
				res, ans := s.run(rctx, sv, inputs, withExplain)
				if res != nil {
					s.observe(rctx, sv, ans.RunID, i, named, res)
					res.Release()
				}
				out.Results[i] = ans
			}
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, &out)
}

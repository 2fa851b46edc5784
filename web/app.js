// udq serve: draw with mouse, touch or pen; every finished stroke is scored by POST /api/predict.
'use strict';
(function () {
  const canvas = document.getElementById('canvas');
  const ctx = canvas.getContext('2d');
  const $ = (id) => document.getElementById(id);
  const strokes = []; // each: array of [x, y] in canvas pixels
  let current = null;
  let uploaded = null; // an uploaded picture shown on the canvas: { image, blob }
  let pending = null;
  let inFlight = false;
  let threshold = null;

  function penWidth() {
    return canvas.width / 14; // about MNIST's stroke (2-3 px of 28)
  }

  function redraw() {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (uploaded) {
      const s = Math.min(canvas.width / uploaded.image.width, canvas.height / uploaded.image.height);
      const w = uploaded.image.width * s;
      const h = uploaded.image.height * s;
      ctx.drawImage(uploaded.image, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    }
    ctx.strokeStyle = '#000';
    ctx.fillStyle = '#000';
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = penWidth();
    for (const s of strokes.concat(current ? [current] : [])) {
      if (s.length === 1) {
        ctx.beginPath();
        ctx.arc(s[0][0], s[0][1], penWidth() / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(s[0][0], s[0][1]);
      for (const [x, y] of s.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
  }

  function point(e) {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
  }

  canvas.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    current = [point(e)];
    redraw();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!current) return;
    for (const ev of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) current.push(point(ev));
    redraw();
  });
  const finish = () => {
    if (!current) return;
    strokes.push(current);
    current = null;
    redraw();
    scoreCanvas();
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', finish);

  $('undo').addEventListener('click', () => {
    if (strokes.length) strokes.pop();
    else uploaded = null;
    redraw();
    if (strokes.length || uploaded) scoreCanvas();
    else idle();
  });
  $('clear').addEventListener('click', () => {
    strokes.length = 0;
    uploaded = null;
    redraw();
    idle();
  });
  $('save').addEventListener('click', () => {
    canvas.toBlob((blob) => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'udq-drawing.png';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, 'image/png');
  });

  function useFile(file) {
    if (!file) return;
    const img = new Image();
    img.onload = () => {
      uploaded = { image: img, blob: file };
      strokes.length = 0;
      redraw();
      send(file, file.type || 'image/png');
    };
    img.onerror = () => showError('this file is not a picture the browser can show');
    img.src = URL.createObjectURL(file);
  }
  $('file').addEventListener('change', (e) => useFile(e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    useFile(e.dataTransfer.files[0]);
  });

  // every request is numbered (data-requested); data-answered is the number of the one shown
  let requested = 0;
  function scoreCanvas() {
    const id = ++requested;
    document.body.dataset.requested = String(id);
    canvas.toBlob((blob) => send(blob, 'image/png', id), 'image/png');
  }

  // one request at a time; the latest drawing wins
  function send(blob, type, id) {
    if (id === undefined) {
      id = ++requested;
      document.body.dataset.requested = String(id);
    }
    pending = { blob, type, id };
    if (!inFlight) next();
  }

  async function next() {
    if (!pending) return;
    const { blob, type, id } = pending;
    pending = null;
    inFlight = true;
    setVerdict('busy', 'thinking...');
    try {
      const res = await fetch('/api/predict', { method: 'POST', headers: { 'content-type': type }, body: blob });
      const body = await res.json();
      if (!res.ok) showError(body.error || res.statusText);
      else show(body);
    } catch (e) {
      showError(String(e));
    } finally {
      inFlight = false;
      if (pending) next();
      else document.body.dataset.answered = String(id);
    }
  }

  function setVerdict(kind, text) {
    const v = $('verdict');
    v.className = 'verdict ' + kind;
    v.textContent = text;
  }

  function idle() {
    document.body.dataset.verdict = '';
    setVerdict('idle', 'draw something');
    $('why').textContent = '';
    $('bars').innerHTML = '';
    $('seen').removeAttribute('src');
    $('stats').textContent = '';
    $('preject').textContent = '-';
    $('gatefill').style.width = '0';
  }

  function showError(message) {
    setVerdict('rejected', 'error');
    $('why').textContent = message;
  }

  const REASONS = {
    uncertain: 'too uncertain: from the spread and entropy of the MC samples, the gate says this is not a digit',
    'invalid-input:blank': 'no stroke found: nothing stands out from the paper',
    'invalid-input:noise-like': 'this looks like noise or texture, not a pen stroke',
    'invalid-input:mostly-ink': 'the picture is mostly ink',
    'invalid-input:unusual-pixels': 'the 28x28 image is unlike any MNIST digit',
  };

  function show(p) {
    document.body.dataset.verdict = p.verdict;
    document.body.dataset.digit = p.digit === undefined ? '' : String(p.digit);
    if (p.verdict === 'digit') {
      setVerdict('digit', String(p.digit));
      $('why').textContent = `a digit: p = ${p.probability.toFixed(3)}`;
    } else {
      setVerdict('rejected', 'rejected');
      const measured = p.reasonDetail ? ` (${p.reasonDetail.short})` : '';
      $('why').textContent = (REASONS[p.reason] || p.reason || '') + measured;
    }
    threshold = p.threshold;
    $('threshold').textContent = threshold === null ? 'none (no gate)' : threshold.toFixed(3);
    $('preject').textContent = p.gateProbability === undefined ? '-' : p.gateProbability.toFixed(3);
    $('gatefill').style.width = `${100 * (p.gateProbability || 0)}%`;
    $('gatemark').style.left = `${100 * (threshold || 0)}%`;
    const bars = $('bars');
    bars.innerHTML = '';
    (p.classProbabilities || []).forEach((m, k) => {
      const s = p.classStd[k];
      const label = document.createElement('div');
      label.textContent = k;
      const bar = document.createElement('div');
      bar.className = 'bar' + (k === p.digit ? ' top' : '');
      bar.innerHTML = `<div class="fill" style="width:${100 * m}%"></div><div class="spread" style="left:${100 * Math.max(0, m - s)}%;width:${100 * (Math.min(1, m + s) - Math.max(0, m - s))}%"></div>`;
      const value = document.createElement('div');
      value.textContent = `${m.toFixed(2)}±${s.toFixed(2)}`;
      bars.append(label, bar, value);
    });
    if (p.image28) $('seen').src = p.image28;
    $('stats').textContent = `mean std ${fmt(p.meanStd)} · mutual information ${fmt(p.mutualInformation)} · entropy ${fmt(p.predictiveEntropy)} · ${p.passes ?? p.samples} samples · ${p.ms} ms`;
  }

  const fmt = (x) => (x === undefined ? '-' : x.toFixed(3));

  fetch('/api/info')
    .then((r) => r.json())
    .then((info) => {
      // an ensemble samples each member: say how many passes a picture gets in all
      // (an ensemble sampled by disagreement gives one softmax a member, dropout off)
      const most = info.samples * (info.members ?? 1);
      const upTo = info.sampling === 'adaptive' ? 'up to ' : '';
      $('samples').textContent =
        info.ensembleMode === 'disagreement'
          ? `once in each of its ${info.members} members, dropout off`
          : `${upTo}${most} times` + (info.members > 1 ? ` (${info.members} members, ${upTo}${info.samples} each)` : '') + ' with dropout on';
      $('model').textContent = `model ${info.model} (${info.arch}), engine ${info.engine}` + (info.gate ? `, gate on ${info.gate.features} features, threshold ${info.gate.threshold.toFixed(3)}` : ', no gate');
      document.body.dataset.ready = 'true';
    })
    .catch(() => ($('model').textContent = 'cannot reach the udq server'));
  redraw();
})();

#!/usr/bin/env python3
"""The Python side of `loku bench peer`: the same work as the engine, written the way a user of PyTorch,
transformers and PEFT would write it.

Reads a work file (JSON, written by the engine side: the model folder, token ids, sizes), times each item and
prints one JSON object on stdout: seconds per item (median of the timed repetitions), the GEMM rate of the same
run, the versions, and check values (logit sum, EL_10 mean, generated tokens) that the engine side compares with
its own, so that both sides are seen to do the same work.

Run alone: peer.py WORK.json  (the engine side writes WORK.json; see `loku bench peer --help`).
"""
import copy
import json
import random
import statistics
import sys
import time


def main():
    work = json.load(open(sys.argv[1]))
    import torch
    torch.set_num_threads(work["threads"])
    torch.set_num_interop_threads(1)
    import transformers
    import peft
    from transformers import AutoModelForCausalLM

    iters, warmup = work["iters"], work["warmup"]
    out = {"versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                        "transformers": transformers.__version__, "peft": peft.__version__},
           "threads": torch.get_num_threads(), "seconds": {}, "checks": {}}

    def timed(fn):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    torch.manual_seed(work["seed"])
    model = AutoModelForCausalLM.from_pretrained(work["model"], dtype=torch.float32)
    model.eval()
    cfg = model.config
    ids = torch.tensor(work["batch"], dtype=torch.long)
    retain = torch.tensor(work["retain"], dtype=torch.long)
    m, k, n = work["gemm"]

    a = torch.randn(m, k)
    b = torch.randn(k, n)
    reps = work["gemm_repeats"]

    def gemm():
        for _ in range(reps):
            torch.mm(a, b)
    out["seconds"]["gemm"] = timed(gemm) / reps

    with torch.inference_mode():
        out["checks"]["logit_sum"] = float(model(ids).logits.double().sum())
        out["seconds"]["forward"] = timed(lambda: model(ids).logits)

        prompts = torch.tensor(work["prompts"], dtype=torch.long)
        new = work["new_tokens"]
        gen = None

        # A fixed number of new tokens, EOS emitted like any token (the engine's stopAtEos=false).
        eos_saved = model.generation_config.eos_token_id
        model.generation_config.eos_token_id = None

        def generate():
            nonlocal gen
            gen = model.generate(prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=new,
                                 do_sample=False, pad_token_id=0)
        out["seconds"]["generate"] = timed(generate)
        model.generation_config.eos_token_id = eos_saved
        out["checks"]["generated"] = gen[:, prompts.shape[1]:].tolist()

        start = time.perf_counter()
        out["checks"]["el"] = extraction_likelihood(model, work["el_sequences"], work["el_n"],
                                                    work["el_batch"], work["eos"])
        out["seconds"]["el"] = time.perf_counter() - start

    lora = peft.LoraConfig(r=work["lora_rank"], lora_alpha=2 * work["lora_rank"], lora_dropout=0.0,
                           target_modules=work["lora_targets"])

    # The Fisher pass: every projection weight, one forget and one retain micro-batch, n_b * g^2 summed in fp32.
    projections = {name + ".weight": module.weight for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not model.get_output_embeddings()}
    importance = None

    def fisher():
        nonlocal importance
        for p in model.parameters():
            p.requires_grad_(False)
        for w in projections.values():
            w.requires_grad_(True)
        sides = []
        for batch in (ids, retain):
            tokens = batch.shape[0] * (batch.shape[1] - 1)
            model(input_ids=batch, labels=batch).loss.backward()
            sums = {}
            for name, w in projections.items():
                sums[name] = w.grad.pow(2).mul_(tokens)
                w.grad = None
            sides.append((sums, tokens))
        for w in projections.values():
            w.requires_grad_(False)
        importance = sides
    out["seconds"]["fisher"] = timed(fisher)
    out["checks"]["fisher_forget_sum"] = float(sum(t.double().sum() for t in importance[0][0].values()))

    # FILA, written by hand on top of PEFT's LoRA layers (PEFT has no Fisher-weighted initialisation): relative
    # importance, row weights, a rank-r randomised SVD of the row-weighted weight (as torch.svd_lowrank is used for
    # it), the factors split by the square root of S/scaling, and the residual left in the base layer.
    def fila(target):
        pm = peft.get_peft_model(target, lora)
        rank = work["lora_rank"]
        scaling = 2.0
        (forget_sums, forget_tokens), (retain_sums, retain_tokens) = importance
        with torch.no_grad():
            for name, module in pm.named_modules():
                if not isinstance(module, peft.tuners.lora.LoraLayer):
                    continue
                key = name.removeprefix("base_model.model.") + ".weight"
                weight = module.base_layer.weight
                relative = (forget_sums[key] / forget_tokens) / (1e-5 + retain_sums[key] / retain_tokens)
                rows = relative.sum(1).sqrt()
                u, s, v = torch.svd_lowrank(rows[:, None] * weight, q=rank, niter=2)
                root = (s / scaling).sqrt()
                a = (v * root).T
                b = u * root / (rows + 1e-5)[:, None]
                module.lora_A["default"].weight.copy_(a)
                module.lora_B["default"].weight.copy_(b)
                weight.sub_(scaling * (b @ a))
        return pm

    fila_times = []
    for i in range(warmup + iters):
        fresh = copy.deepcopy(model)
        start = time.perf_counter()
        fila(fresh)
        if i >= warmup:
            fila_times.append(time.perf_counter() - start)
        del fresh
    out["seconds"]["fila"] = statistics.median(fila_times)

    pm = peft.get_peft_model(model, lora)
    pm.train()

    def lora_forward_backward():
        loss = pm(input_ids=ids, labels=ids).loss
        loss.backward()
        pm.zero_grad(set_to_none=True)
    out["seconds"]["lora_fb"] = timed(lora_forward_backward)

    optimiser = torch.optim.Adam([p for p in pm.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.98),
                                 eps=1e-8)

    def training_step():
        # LoKU's objective: the inverted hinge loss on the forget batch plus the retain NLL, one Adam update.
        ihl = inverted_hinge(pm(input_ids=ids).logits, ids)
        nll = pm(input_ids=retain, labels=retain).loss
        (ihl + nll).backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
    out["seconds"]["train_step"] = timed(training_step)

    # One unlearning epoch as the engine's worker runs it: the EL_10 sequences are the forget set, in micro-batches of
    # the batch size, each paired with as many retain sequences drawn with replacement; the micro-batch losses
    # (inverted hinge loss + retain NLL) averaged into one Adam update; then the evaluation. "full": forget MA and
    # EL_10, retain MA and NLL. "stop_rule": forget MA only (an epoch before forget MA falls below its threshold).
    forget_set = torch.tensor(work["el_sequences"], dtype=torch.long)
    retain_set = torch.tensor(work["epoch_retain"], dtype=torch.long)
    draw = random.Random(work["seed"])
    micro, eval_batch = len(work["batch"]), work["eval_batch"]

    def epoch(full):
        pm.train()
        partners = retain_set[[draw.randrange(len(retain_set)) for _ in range(len(forget_set))]]
        chunks = range(0, len(forget_set), micro)
        for start in chunks:
            f = forget_set[start:start + micro]
            r = partners[start:start + micro]
            ((inverted_hinge(pm(input_ids=f).logits, f) + pm(input_ids=r, labels=r).loss) / len(chunks)).backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        pm.eval()
        with torch.inference_mode():
            scores(pm, forget_set, eval_batch)
            if full:
                extraction_likelihood(pm, work["el_sequences"], work["el_n"], work["el_batch"], work["eos"])
                scores(pm, retain_set, eval_batch)

    start = time.perf_counter()
    epoch(True)
    out["seconds"]["epoch_full"] = time.perf_counter() - start
    out["seconds"]["epoch_stop_rule"] = timed(lambda: epoch(False))
    json.dump(out, sys.stdout)
    print()


def inverted_hinge(logits, ids):
    """LoKU's inverted hinge loss: 1 + p(true next token) - the largest probability of any other token, averaged."""
    probs = logits[:, :-1, :].float().softmax(-1)
    targets = ids[:, 1:].unsqueeze(-1)
    true_prob = probs.gather(-1, targets).squeeze(-1)
    others = probs.scatter(-1, targets, -1.0)
    return (1 + true_prob - others.max(-1).values).mean()


def scores(model, sequences, batch):
    """Teacher-forced memorisation accuracy (per sequence, then the mean) and mean NLL, in batches."""
    import torch
    accuracies, losses = [], []
    for start in range(0, len(sequences), batch):
        rows = sequences[start:start + batch]
        logits = model(input_ids=rows).logits[:, :-1, :].float()
        targets = rows[:, 1:]
        accuracies.extend((logits.argmax(-1) == targets).float().mean(-1).tolist())
        losses.append(torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="sum"))
    return statistics.mean(accuracies), float(sum(losses)) / (sequences.shape[0] * (sequences.shape[1] - 1))


def extraction_likelihood(model, sequences, n, batch, eos):
    """EL_n (Jang et al.) of every sequence: each prefix i = 1..T-n greedily continued to length T, the n-gram
    overlap of continuation and true suffix, summed and divided by T - n. Prefixes are generated in left-padded
    batches of similar length (longest first), each batch as far as its longest continuation; a row's tokens are
    cut at its own budget and its first EOS."""
    import torch
    jobs = []
    for s, seq in enumerate(sequences):
        t = len(seq)
        for i in range(1, t - n + 1):
            jobs.append((s, i))
    jobs.sort(key=lambda j: (-j[1], len(sequences[j[0]]) - j[1]))
    sums = [0.0] * len(sequences)
    for start in range(0, len(jobs), batch):
        chunk = jobs[start:start + batch]
        width = max(i for _, i in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros(len(chunk), width, dtype=torch.long)
        for r, (s, i) in enumerate(chunk):
            ids[r, width - i:] = torch.tensor(sequences[s][:i])
            mask[r, width - i:] = 1
        budget = max(len(sequences[s]) - i for s, i in chunk)
        gen = model.generate(ids, attention_mask=mask, max_new_tokens=budget, do_sample=False, pad_token_id=0,
                             eos_token_id=eos)[:, width:].tolist()
        for r, (s, i) in enumerate(chunk):
            row = gen[r][:len(sequences[s]) - i]
            for c, tok in enumerate(row):
                if tok in eos:
                    row = row[:c + 1]
                    break
            sums[s] += overlap(row, sequences[s][i:], n)
    return statistics.mean(sums[s] / (len(seq) - n) for s, seq in enumerate(sequences) if len(seq) > n)


def overlap(generated, reference, n):
    grams = {tuple(reference[i:i + n]) for i in range(len(reference) - n + 1)}
    hits = sum(1 for i in range(len(generated) - n + 1) if tuple(generated[i:i + n]) in grams)
    return hits / (len(reference) - n + 1)


if __name__ == "__main__":
    main()

import numpy as np, re, json
from scipy import stats
from nltk.stem import porter
rng = np.random.default_rng(7)
cases = {}
def fmt(a): return "{" + ", ".join(repr(float(x)) for x in a) + "}"
a = rng.normal(0,1,12); b = rng.normal(0.8,1,9)
print("KS small", fmt(np.round(a,3)), fmt(np.round(b,3)))
r = stats.ks_2samp(np.round(a,3), np.round(b,3)); print(repr(r.statistic), repr(r.pvalue), r.method if hasattr(r,'method') else '')
ties_a = [1,1,2,2,3,3,3,4]; ties_b=[2,3,3,4,4,5,5,6,6,7]
r = stats.ks_2samp(ties_a, ties_b); print("ties", repr(r.statistic), repr(r.pvalue))
for (n,m,shift) in [(40,40,0.5),(200,200,0.2),(300,300,0.15),(40,300,0.3),(400,300,0.1)]:
    x = np.round(rng.lognormal(0,1,n),4); y = np.round(rng.lognormal(shift,1,m),4)
    np.savetxt(f"/tmp/ks_{n}_{m}_x.txt", x); np.savetxt(f"/tmp/ks_{n}_{m}_y.txt", y)
    r = stats.ks_2samp(x, y); print(n,m, repr(r.statistic), repr(r.pvalue))
print("hmean", repr(stats.hmean([0.5,0.25,0.8,0.9,0.1,0.33,0.6,0.7,0.2])))
st = porter.PorterStemmer()
words = "caresses ponies ties dies flies skies dying agreed plastered motoring sing conflated troubled sized hopping tanned falling hissing fizzed failing filing happy enjoy relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous effective bowdlerize probate rate cease controll roll generously generalizations oscillators eventually fully biology archaeology authors author's novels writing written literary nominated awards recognized characters narrative".split()
print(json.dumps({w: st.stem(w) for w in words}))
def toks(t, stem=True):
    t = re.sub(r"[^a-z0-9]+", " ", t.lower())
    ws = [w for w in re.split(r"\s+", t) if w]
    return [st.stem(w) if (stem and len(w) > 3) else w for w in ws]
def lcs(a,b):
    T=[[0]*(len(b)+1) for _ in range(len(a)+1)]
    for i in range(1,len(a)+1):
        for j in range(1,len(b)+1):
            T[i][j] = T[i-1][j-1]+1 if a[i-1]==b[j-1] else max(T[i-1][j],T[i][j-1])
    return T[-1][-1]
pairs = [("The author's full name is Hsiao Yun-Hwa.", "The author's name is Hsiao Yun Hwa, a writer."),
 ("Hsiao Yun-Hwa is part of the LGBTQ+ community.", "Hsiao Yun-Hwa identifies as part of the community of writers."),
 ("William Shakespeare", "The play was written by William Shakespeare."),
 ("His father was a civil engineer and his mother worked as a nurse.", "His mother was a nurse, and his father worked as an engineer."),
 ("Generously nominated for awards, her novels explored characters' narratives.", "Her novel explores the characters and narrative generously."),
 ("42 is the answer", "none of these words"),
 ("", "anything")]
for g, p in pairs:
    a, b = toks(g), toks(p)
    print(json.dumps([g, p, (lcs(a,b)/len(a)) if a and b else 0.0, a, b]))

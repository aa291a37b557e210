import { describe, expect, it } from 'vitest';
import { bookCommand, labLine } from '../../../lab/tutorial/book.js';

describe('bookCommand: the command a reader of the book types for a lab command', () => {
  it.each([
    [['apply', '-f', 'ch5/catalog-vs.yaml', '-n', 'istioinaction'], 'kubectl apply -f ch5/catalog-vs.yaml -n istioinaction'],
    [['delete', 'deployment,svc,gateway,virtualservice,destinationrule', '--all', '-n', 'istioinaction'], 'kubectl delete deployment,svc,gateway,virtualservice,destinationrule --all -n istioinaction'],
    [['get', 'vs', 'catalog', '-o', 'yaml', '-n', 'istioinaction'], 'kubectl get vs catalog -o yaml -n istioinaction'],
    [['get', 'meshconfig', '-o', 'yaml'], 'kubectl get cm istio -n istio-system -o yaml'],
    [['install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'], 'istioctl install --set meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'],
    [['curl', '-s', 'http://catalog.istioinaction/items'], "kubectl run -i -n default --rm --restart=Never dummy --image=curlimages/curl --command -- sh -c 'curl -s http://catalog.istioinaction/items'"],
  ])('%j -> %s', (argv, book) => {
    expect(bookCommand(argv)).toBe(book);
  });

  it('installs Flagger with Helm', () => {
    expect(bookCommand(['install', 'flagger'])).toMatch(/^helm install flagger flagger\/flagger /);
  });

  it('quotes what a shell would split', () => {
    expect(labLine(['get', 'po', '-l', 'app=catalog,version in (v1)'])).toBe("lab get po -l 'app=catalog,version in (v1)'");
  });
});

/** The four catalog items the book's `istioinaction/catalog` image serves (ids 1-4). */
export interface CatalogItem {
  id: number;
  color: string;
  department: string;
  name: string;
  price: string;
  imageUrl?: string;
  [extra: string]: unknown;
}

/** What v2 (`SHOW_IMAGE=true`) adds to every item; faker's `image.imageUrl()` default. */
export const IMAGE_URL = 'http://lorempixel.com/640/480';

export function initialItems(): CatalogItem[] {
  return [
    { id: 1, color: 'amber', department: 'Eyewear', name: 'Elinor Glasses', price: '282.00' },
    { id: 2, color: 'cyan', department: 'Clothing', name: 'Atlas Shirt', price: '127.00' },
    { id: 3, color: 'teal', department: 'Clothing', name: 'Small Metal Shoes', price: '232.00' },
    { id: 4, color: 'red', department: 'Watches', name: 'Red Dragon Watch', price: '232.00' },
  ];
}

/** json-server's home page (served at `/`), as the book's `curl` through the gateway shows it. */
export const HOME_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>JSON Server</title>
</head>
<body>
  <header>
    <div class="container">
      <nav>
        <ul>
          <li class="title">JSON Server</li>
        </ul>
      </nav>
    </div>
  </header>
  <main>
    <div class="container">
      <h1>Congrats!</h1>
      <p>
        You're successfully running JSON Server
        <br> ✧*｡٩(ˊᗜˋ*)و✧*｡
      </p>
      <div id="resources"></div>
      <h4>Congrats!</h4>
      <p>
        To access and modify resources, you can use any HTTP method:
        <code>GET</code> <code>POST</code> <code>PUT</code> <code>PATCH</code> <code>DELETE</code> <code>OPTIONS</code>
      </p>
      <ul>
        <li><a href="items">/items</a></li>
        <li><a href="blowup">/blowup</a></li>
      </ul>
    </div>
  </main>
  <footer>
    <div class="container">
      <p>To replace this page, create an index.html file in ./public, JSON Server will load it.</p>
    </div>
  </footer>
</body>
</html>
`;

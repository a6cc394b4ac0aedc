//! The warm-CPU floor: a bare `aws-sdk-dynamodb` loop making the same
//! DynamoDB calls the gateway makes for the benchmark's queries, with no
//! HTTP, GraphQL, JSON or domain code around them. `scripts/bench` divides
//! the gateway's CPU per request by this loop's CPU per iteration.
//!
//! The calls mirror `src/store` (keys from `store/keys.rs`, batches from
//! `store/batch.rs`): one account is a `GetItem` of the account, then one
//! `BatchGetItem` for its tier (with the default-tier pointer) and one for
//! its customer; a page is a `Query` of the account index (`first + 1`
//! items), then the tiers in batches of 99 (+ the pointer) and the
//! customers in batches of 100. Every call asks for the consumed capacity,
//! so the same run reports requests and read units per query.
//!
//! Usage: `bench-sdk-floor --table T single ACCOUNT_ID ITERATIONS`,
//! `bench-sdk-floor --table T page FIRST PAGES ITERATIONS` or
//! `bench-sdk-floor --table T sizes ACCOUNT_ID` (the item sizes the
//! hot-partition model needs) or `bench-sdk-floor --table - rng` (the cost
//! of the TLS provider's first random draw); prints one JSON object.

use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, KeysAndAttributes, ReturnConsumedCapacity,
};

type Item = HashMap<String, AttributeValue>;

/// Requests made and read capacity consumed.
#[derive(Default)]
struct Tally {
    requests: u64,
    capacity: f64,
}

impl Tally {
    fn add(&mut self, consumed: Option<&ConsumedCapacity>) {
        self.requests += 1;
        self.capacity += consumed
            .and_then(ConsumedCapacity::capacity_units)
            .unwrap_or(0.0);
    }
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// CPU (user + system) this process has used, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    rest.split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum()
}

async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    tally: &mut Tally,
) -> Result<Vec<Item>, String> {
    let request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(|e| e.to_string())?;
    let output = client
        .batch_get_item()
        .request_items(table, request)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    tally.add(output.consumed_capacity().first());
    Ok(output
        .responses
        .and_then(|mut r| r.remove(table))
        .unwrap_or_default())
}

/// Reads the tiers and customers of `accounts`, as the DataLoaders do.
async fn related(
    client: &Client,
    table: &str,
    accounts: &[Item],
    tally: &mut Tally,
) -> Result<usize, String> {
    let tiers: BTreeSet<String> = accounts
        .iter()
        .filter_map(|a| string(a, "pricingTierId"))
        .collect();
    let customers: BTreeSet<String> = accounts
        .iter()
        .filter_map(|a| string(a, "customerId"))
        .collect();
    let mut read = 0;
    let tiers: Vec<String> = tiers.into_iter().collect();
    for chunk in tiers.chunks(99) {
        let mut keys: Vec<Item> = chunk
            .iter()
            .map(|id| key(format!("PRICING_TIER#{id}"), "PRICING_TIER"))
            .collect();
        keys.push(key(
            "SINGLETON#DEFAULT_PRICING_TIER".to_owned(),
            "SINGLETON",
        ));
        read += batch_get(client, table, keys, tally).await?.len();
    }
    let customers: Vec<String> = customers.into_iter().collect();
    for chunk in customers.chunks(100) {
        let keys = chunk
            .iter()
            .map(|id| key(format!("CUSTOMER#{id}"), "CUSTOMER"))
            .collect();
        read += batch_get(client, table, keys, tally).await?.len();
    }
    Ok(read)
}

async fn single(
    client: &Client,
    table: &str,
    account: &str,
    tally: &mut Tally,
) -> Result<usize, String> {
    let output = client
        .get_item()
        .table_name(table)
        .set_key(Some(key(format!("ACCOUNT#{account}"), "ACCOUNT")))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    tally.add(output.consumed_capacity());
    let item = output.item.ok_or("the account does not exist")?;
    Ok(1 + related(client, table, &[item], tally).await?)
}

/// Walks `pages` pages of `first` accounts, newest first, like
/// `accounts(first: …, after: …)`.
async fn pages(
    client: &Client,
    table: &str,
    first: usize,
    pages: usize,
    tally: &mut Tally,
) -> Result<usize, String> {
    let mut start: Option<Item> = None;
    let mut read = 0;
    for _ in 0..pages {
        let output = client
            .query()
            .table_name(table)
            .index_name("gsi3")
            .key_condition_expression("gsi3pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S("ACCOUNTS".to_owned()))
            .scan_index_forward(false)
            .limit(i32::try_from(first + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.take())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        tally.add(output.consumed_capacity());
        let mut items = output.items.unwrap_or_default();
        let more = items.len() > first;
        items.truncate(first);
        read += items.len();
        read += related(client, table, &items, tally).await?;
        match items.last() {
            Some(last) if more => {
                let mut next = HashMap::new();
                for name in ["pk", "sk", "gsi3pk", "gsi3sk"] {
                    if let Some(value) = last.get(name) {
                        next.insert(name.to_owned(), value.clone());
                    }
                }
                start = Some(next);
            }
            _ => break,
        }
    }
    Ok(read)
}

/// An item's size as DynamoDB bills it (names + values; numbers about one
/// byte per two digits; maps and lists 3 bytes plus 1 per element).
fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// Sizes of an account item, its tier and its customer (the write-unit
/// inputs of the hot-partition model in docs/performance.md).
async fn sizes(client: &Client, table: &str, account: &str) -> Result<String, String> {
    let get = async |pk: String, sk: &str| -> Result<Item, String> {
        client
            .get_item()
            .table_name(table)
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?
            .item
            .ok_or_else(|| "item not found".to_owned())
    };
    let account = get(format!("ACCOUNT#{account}"), "ACCOUNT").await?;
    let tier = string(&account, "pricingTierId").ok_or("account without tier")?;
    let customer = string(&account, "customerId").ok_or("account without customer")?;
    let tier = get(format!("PRICING_TIER#{tier}"), "PRICING_TIER").await?;
    let customer = get(format!("CUSTOMER#{customer}"), "CUSTOMER").await?;
    Ok(format!(
        "{{\"account\":{},\"tier\":{},\"customer\":{}}}",
        item_size(&account),
        item_size(&tier),
        item_size(&customer)
    ))
}

/// Times this process's first and second draw from the TLS provider's
/// random generator (through rustls, as a TLS handshake draws). With
/// aws-lc the first draw seeded a generator with CPU jitter entropy
/// (74 ms); ring reads the kernel's `getrandom` every time.
fn first_random_bytes() -> ExitCode {
    let provider = rustls::crypto::ring::default_provider();
    let mut buffer = [0u8; 32];
    let mut draw = || {
        let started = std::time::Instant::now();
        let ok = provider.secure_random.fill(&mut buffer).is_ok();
        (ok, started.elapsed().as_secs_f64() * 1000.0)
    };
    let (first_ok, first_ms) = draw();
    let (second_ok, second_ms) = draw();
    if !(first_ok && second_ok) {
        eprintln!("bench-sdk-floor: the TLS provider's generator failed");
        return ExitCode::FAILURE;
    }
    println!("{{\"first_ms\":{first_ms},\"second_ms\":{second_ms}}}");
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: bench-sdk-floor --table T single ACCOUNT_ID ITERATIONS\n       \
         bench-sdk-floor --table T page FIRST PAGES ITERATIONS\n       \
         bench-sdk-floor --table T sizes ACCOUNT_ID"
    );
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [flag, table, mode, rest @ ..] = args.as_slice() else {
        return usage();
    };
    if flag != "--table" {
        return usage();
    }
    if (mode.as_str(), rest.is_empty()) == ("rng", true) {
        return first_random_bytes();
    }
    let number = |s: &String| s.parse::<usize>().ok();
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(switchboard::store::http_client())
        .load()
        .await;
    let client = Client::new(&aws);
    if let ("sizes", [account]) = (mode.as_str(), rest) {
        return match sizes(&client, table, account).await {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("bench-sdk-floor: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let run = async |tally: &mut Tally| -> Result<usize, String> {
        match (mode.as_str(), rest) {
            ("single", [account, _]) => single(&client, table, account, tally).await,
            ("page", [first, count, _]) => {
                let (Some(first), Some(count)) = (number(first), number(count)) else {
                    return Err("FIRST and PAGES are numbers".into());
                };
                pages(&client, table, first, count, tally).await
            }
            _ => Err("unknown mode".into()),
        }
    };
    let Some(iterations) = rest.last().and_then(number).filter(|n| *n > 0) else {
        return usage();
    };
    // One untimed round opens the connection and fills the SDK's caches,
    // as the gateway's warm-up requests do.
    let mut first = Tally::default();
    let items = match run(&mut first).await {
        Ok(items) => items,
        Err(err) => {
            eprintln!("bench-sdk-floor: {err}");
            return ExitCode::FAILURE;
        }
    };
    let before = cpu_ticks();
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    for _ in 0..iterations {
        if let Err(err) = run(&mut tally).await {
            eprintln!("bench-sdk-floor: {err}");
            return ExitCode::FAILURE;
        }
    }
    let ticks = cpu_ticks() - before;
    #[expect(
        clippy::cast_precision_loss,
        reason = "tick and iteration counts are small"
    )]
    let cpu_ms = ticks as f64 * 1000.0 / 100.0 / iterations as f64;
    #[expect(clippy::cast_precision_loss, reason = "iteration counts are small")]
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0 / iterations as f64;
    println!(
        "{{\"items\":{items},\"requests\":{},\"capacity\":{},\"cpu_ms\":{cpu_ms},\"wall_ms\":{wall_ms}}}",
        first.requests, first.capacity
    );
    ExitCode::SUCCESS
}

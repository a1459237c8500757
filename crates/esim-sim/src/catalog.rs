//! The simulated provider's product catalogue: a handful of realistic eSIM data plans.

use rand::Rng;

/// One sellable eSIM product.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// Identifier clients send as `product_id` when ordering.
    pub id: &'static str,
    /// Display name copied into every order (`product_name`).
    pub name: &'static str,
    /// ISO 3166-1 alpha-3, or `GLO` for global plans.
    pub country_code: &'static str,
    /// Included data in GB; 0 means unlimited.
    pub data_amount_gb: f64,
    /// Days the plan lasts after first use.
    pub validity_days: u32,
    /// Price as exact decimal text (up to 4 decimals), emitted verbatim as a JSON number.
    pub price: &'static str,
    /// ISO 4217 currency of `price`.
    pub currency: &'static str,
    /// Relative popularity used by the random workload.
    pub weight: u32,
}

/// The catalogue. Validity days cover the provider's usual 1, 3, 7, 15 and 30.
pub const PRODUCTS: &[Product] = &[
    product("jpn-1gb-7d", "Japan eSIM", "JPN", 1.0, 7, "4.275", 30),
    product("tha-3gb-15d", "Thailand eSIM", "THA", 3.0, 15, "5.6", 15),
    product("usa-5gb-30d", "USA eSIM", "USA", 5.0, 30, "12.5", 20),
    product(
        "fra-10gb-30d",
        "France eSIM",
        "FRA",
        10.0,
        30,
        "16.9375",
        10,
    ),
    product(
        "tur-unl-1d",
        "Turkey Unlimited eSIM",
        "TUR",
        0.0,
        1,
        "2.85",
        5,
    ),
    product("glo-1gb-3d", "Global eSIM", "GLO", 1.0, 3, "3.99", 10),
    product("kor-0.5gb-3d", "South Korea eSIM", "KOR", 0.5, 3, "1.9", 10),
];

#[allow(clippy::too_many_arguments)]
const fn product(
    id: &'static str,
    name: &'static str,
    country_code: &'static str,
    data_amount_gb: f64,
    validity_days: u32,
    price: &'static str,
    weight: u32,
) -> Product {
    Product {
        id,
        name,
        country_code,
        data_amount_gb,
        validity_days,
        price,
        currency: "USD",
        weight,
    }
}

/// Looks a product up by its `product_id`.
pub fn find(id: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.id == id)
}

/// Draws a product according to the catalogue's popularity weights.
pub fn pick(rng: &mut impl Rng) -> &'static Product {
    let total: u32 = PRODUCTS.iter().map(|p| p.weight).sum();
    let mut ticket = rng.random_range(0..total.max(1));
    for p in PRODUCTS {
        if ticket < p.weight {
            return p;
        }
        ticket -= p.weight;
    }
    &PRODUCTS[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_valid_json_numbers_with_at_most_four_decimals() {
        for p in PRODUCTS {
            let parsed: Result<f64, _> = serde_json::from_str(p.price);
            assert!(parsed.is_ok(), "{} price {}", p.id, p.price);
            let decimals = p.price.split('.').nth(1).map_or(0, str::len);
            assert!(decimals <= 4, "{}", p.id);
        }
        assert_eq!(find("jpn-1gb-7d").map(|p| p.price), Some("4.275"));
    }
}
